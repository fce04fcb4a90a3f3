//! Canonical JSON: serde_json's compact text with object keys sorted at every level, written
//! straight from any `Serialize` value.
//!
//! The input digest hashes the resolved stack in this form. Going through a `serde_json::Value`
//! (build, sort, print, free) cost more than resolving the stack; this writes the same bytes
//! without the intermediate tree. Scalars are printed by serde_json itself, so numbers and
//! string escapes are exactly its own.

use serde::ser::{self, Serialize};
use std::borrow::Cow;
use std::fmt;

/// `value` as canonical JSON: the bytes of `serde_json::to_value(value)` with every object's
/// keys sorted, printed compactly.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    value.serialize(Canonical { out: &mut out })?;
    Ok(out)
}

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error(error.to_string())
    }
}

struct Canonical<'o> {
    out: &'o mut Vec<u8>,
}

impl Canonical<'_> {
    fn scalar<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.out, value)?;
        Ok(())
    }
}

/// An object under construction. Its entries' values are written after `start` in the shared
/// buffer as they come, then rewritten there sorted by key: one buffer for the whole document
/// instead of one per entry. A repeated key keeps its last value, as in a JSON object.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    entries: Vec<(Cow<'static, str>, std::ops::Range<usize>)>,
    pending_key: Option<String>,
    /// For `{"Variant": {...}}`: the enclosing key, written around this object.
    variant: Option<&'static str>,
}

impl<'o> Object<'o> {
    fn new(out: &'o mut Vec<u8>, variant: Option<&'static str>) -> Self {
        let start = out.len();
        Object { out, start, entries: Vec::new(), pending_key: None, variant }
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: Cow<'static, str>, value: &T) -> Result<(), Error> {
        let begin = self.out.len();
        value.serialize(Canonical { out: &mut *self.out })?;
        self.entries.push((key, begin..self.out.len()));
        Ok(())
    }

    fn finish(mut self) -> Result<(), Error> {
        // Stable: among equal keys the last one written ends up last, and is the one kept.
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        let values = self.out.split_off(self.start);
        let out = &mut *self.out;
        if let Some(variant) = self.variant {
            out.push(b'{');
            serde_json::to_writer(&mut *out, variant)?;
            out.push(b':');
        }
        out.push(b'{');
        let mut first = true;
        for (i, (key, range)) in self.entries.iter().enumerate() {
            if self.entries.get(i + 1).is_some_and(|next| next.0 == *key) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut *out, key.as_ref())?;
            out.push(b':');
            out.extend_from_slice(&values[range.start - self.start..range.end - self.start]);
        }
        out.push(b'}');
        if self.variant.is_some() {
            out.push(b'}');
        }
        Ok(())
    }
}

/// An array under construction.
struct Array<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
    variant: Option<&'static str>,
}

impl<'o> Array<'o> {
    fn new(out: &'o mut Vec<u8>, variant: Option<&'static str>) -> Result<Self, Error> {
        if let Some(variant) = variant {
            out.push(b'{');
            serde_json::to_writer(&mut *out, variant)?;
            out.push(b':');
        }
        out.push(b'[');
        Ok(Array { out, first: true, variant })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canonical { out: &mut *self.out })
    }

    fn finish(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

/// Scalars serde_json prints itself, so numbers and string escapes are exactly its own.
macro_rules! scalars {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.scalar(&v)
        }
    )*};
}

/// Scalars whose text is that of their `serde_json::Value`.
macro_rules! through_value {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.scalar(&serde_json::to_value(v)?)
        }
    )*};
}

impl<'o> ser::Serializer for Canonical<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'o>;
    type SerializeTuple = Array<'o>;
    type SerializeTupleStruct = Array<'o>;
    type SerializeTupleVariant = Array<'o>;
    type SerializeMap = Object<'o>;
    type SerializeStruct = Object<'o>;
    type SerializeStructVariant = Object<'o>;

    scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_char(char),
        serialize_str(&str)
    );
    // As `to_value` stores them: an f32 widened to f64, a non-finite float as null, bytes as
    // an array of numbers.
    through_value!(
        serialize_i128(i128),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8])
    );
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut object = Object::new(self.out, None);
        object.entry(Cow::Borrowed(variant), value)?;
        object.finish()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'o>, Error> {
        Array::new(self.out, None)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Array<'o>, Error> {
        Array::new(self.out, None)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Array<'o>, Error> {
        Array::new(self.out, None)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'o>, Error> {
        Array::new(self.out, Some(variant))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'o>, Error> {
        Ok(Object::new(self.out, None))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object<'o>, Error> {
        Ok(Object::new(self.out, None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'o>, Error> {
        Ok(Object::new(self.out, Some(variant)))
    }
}

/// The four sequence traits differ only in the name of the element method: every one writes
/// an array element.
macro_rules! serialize_array {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

serialize_array!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // Object keys as serde_json makes them: strings as they are, numbers and bools as text.
        let key = match serde_json::to_value(key)? {
            serde_json::Value::String(key) => key,
            other @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => other.to_string(),
            _ => return Err(Error("key must be a string".into())),
        };
        self.pending_key = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.pending_key.take().ok_or_else(|| Error("a map value without its key".into()))?;
        self.entry(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// A struct and a struct variant both write named fields into an object.
macro_rules! serialize_struct {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.entry(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

serialize_struct!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// The reference: through a `Value`, keys sorted, printed compactly.
    fn through_value<T: Serialize>(value: &T) -> Vec<u8> {
        let mut value = serde_json::to_value(value).unwrap();
        fn sort(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    map.sort_keys();
                    map.values_mut().for_each(sort);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(sort),
                _ => {}
            }
        }
        sort(&mut value);
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn same_bytes_as_sorting_a_value() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        enum Kind {
            Plain,
            Wrapped(u8),
            Pair(u8, String),
            Shaped { z: u8, a: Option<String> },
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Sample {
            zeta: String,
            alpha: Vec<Kind>,
            numbers: (i64, u64, f64, f64),
            nothing: Option<u8>,
            map: BTreeMap<String, serde_json::Value>,
            by_number: BTreeMap<u16, bool>,
            raw: serde_json::Value,
        }
        let sample = Sample {
            zeta: "quote \" backslash \\ newline \n tab \t unicode é \u{1}".into(),
            alpha: vec![Kind::Plain, Kind::Wrapped(7), Kind::Pair(1, "x".into()), Kind::Shaped { z: 1, a: None }],
            numbers: (-5, u64::MAX, 0.1, f64::NAN),
            nothing: None,
            map: [
                ("b".to_string(), json!([{"y": 1, "x": [2, {"d": null, "c": 1.5e300}]}])),
                ("a".to_string(), json!({})),
            ]
            .into(),
            by_number: [(10, true), (9, false)].into(),
            raw: json!({"kind": "ConfigMap", "apiVersion": "v1", "data": {"Z": "1", "A": "2"}, "list": []}),
        };
        assert_eq!(
            String::from_utf8(to_vec(&sample).unwrap()).unwrap(),
            String::from_utf8(through_value(&sample)).unwrap()
        );
    }
}
