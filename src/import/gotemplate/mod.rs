//! Go `text/template` → tera: a parser of Go's template grammar and a translator of the
//! constructs codexctl and ServiceStack files use.
