//! Just enough PNG decoding for comparing screenshots: 8-bit RGB or RGBA, not interlaced
//! (what Chromium writes), with a small inflate (RFC 1951) in place of a zlib crate.

/// A decoded image: RGB pixels, row by row.
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<[u8; 3]>,
}

/// Decodes a PNG file's bytes, or says why not.
pub fn decode(bytes: &[u8]) -> Result<Image, String> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return Err("not a PNG file".into());
    }
    let mut at = SIGNATURE.len();
    let (mut width, mut height, mut channels) = (0usize, 0usize, 0usize);
    let mut compressed = Vec::new();
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = bytes.get(at + 8..at + 8 + length).ok_or("truncated chunk")?;
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                let (depth, colour, interlace) = (data[8], data[9], data[12]);
                channels = match (depth, colour, interlace) {
                    (8, 2, 0) => 3,
                    (8, 6, 0) => 4,
                    _ => {
                        return Err(format!(
                            "unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}"
                        ))
                    }
                };
            }
            b"IDAT" => compressed.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + length;
    }
    if channels == 0 {
        return Err("no IHDR chunk".into());
    }
    // zlib: a two-byte header, the deflate stream, an Adler-32 we do not check.
    let raw = inflate(compressed.get(2..).ok_or("empty image data")?)?;
    let stride = width * channels;
    if raw.len() < height * (stride + 1) {
        return Err(format!("image data too short: {} bytes for {width}x{height}", raw.len()));
    }
    let mut previous = vec![0u8; stride];
    let mut rgb = Vec::with_capacity(width * height);
    for row in 0..height {
        let line = &raw[row * (stride + 1)..(row + 1) * (stride + 1)];
        let mut current = line[1..].to_vec();
        unfilter(line[0], &mut current, &previous, channels)?;
        rgb.extend(current.chunks(channels).map(|p| [p[0], p[1], p[2]]));
        previous = current;
    }
    Ok(Image { width, height, rgb })
}

fn unfilter(filter: u8, line: &mut [u8], above: &[u8], bpp: usize) -> Result<(), String> {
    for i in 0..line.len() {
        let left = if i >= bpp { line[i - bpp] } else { 0 };
        let up = above[i];
        let up_left = if i >= bpp { above[i - bpp] } else { 0 };
        let predicted = match filter {
            0 => 0,
            1 => left,
            2 => up,
            3 => ((left as u16 + up as u16) / 2) as u8,
            4 => paeth(left, up, up_left),
            other => return Err(format!("unknown PNG filter {other}")),
        };
        line[i] = line[i].wrapping_add(predicted);
    }
    Ok(())
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    buffer: u32,
    count: u32,
}

impl Bits<'_> {
    fn bits(&mut self, n: u32) -> Result<u32, String> {
        while self.count < n {
            let byte = *self.data.get(self.at).ok_or("deflate stream ends early")?;
            self.at += 1;
            self.buffer |= (byte as u32) << self.count;
            self.count += 8;
        }
        let value = self.buffer & ((1u32 << n) - 1);
        self.buffer >>= n;
        self.count -= n;
        Ok(value)
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut counts = [0u16; 16];
        for &length in lengths {
            counts[length as usize] += 1;
        }
        counts[0] = 0;
        let mut offsets = [0u16; 16];
        for length in 1..15 {
            offsets[length + 1] = offsets[length] + counts[length];
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (symbol, &length) in lengths.iter().enumerate() {
            if length != 0 {
                symbols[offsets[length as usize] as usize] = symbol as u16;
                offsets[length as usize] += 1;
            }
        }
        Huffman { counts, symbols }
    }

    /// One symbol, a bit at a time (the codes are packed most significant bit first).
    fn decode(&self, bits: &mut Bits) -> Result<u16, String> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for length in 1..16 {
            code |= bits.bits(1)? as i32;
            let count = self.counts[length] as i32;
            if code - count < first {
                return self.symbols.get((index + code - first) as usize).copied().ok_or("bad Huffman code".into());
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("bad Huffman code".into())
    }
}

const LENGTH_BASE: [u16; 29] =
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/// Inflates a raw deflate stream.
pub fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut bits = Bits { data, at: 0, buffer: 0, count: 0 };
    let mut out = Vec::new();
    loop {
        let last = bits.bits(1)? == 1;
        match bits.bits(2)? {
            0 => {
                // Stored: whole bytes from the next byte boundary.
                bits.buffer = 0;
                bits.count = 0;
                let header = data.get(bits.at..bits.at + 4).ok_or("truncated stored block")?;
                let length = u16::from_le_bytes([header[0], header[1]]) as usize;
                bits.at += 4;
                out.extend_from_slice(data.get(bits.at..bits.at + length).ok_or("truncated stored block")?);
                bits.at += length;
            }
            1 => {
                let mut lengths = [0u8; 288];
                lengths[..144].fill(8);
                lengths[144..256].fill(9);
                lengths[256..280].fill(7);
                lengths[280..].fill(8);
                codes(&mut bits, &mut out, &Huffman::new(&lengths), &Huffman::new(&[5; 30]))?;
            }
            2 => {
                let literals = bits.bits(5)? as usize + 257;
                let distances = bits.bits(5)? as usize + 1;
                let code_lengths = bits.bits(4)? as usize + 4;
                const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
                let mut lengths = [0u8; 19];
                for &at in &ORDER[..code_lengths] {
                    lengths[at] = bits.bits(3)? as u8;
                }
                let length_code = Huffman::new(&lengths);
                let mut all = Vec::with_capacity(literals + distances);
                while all.len() < literals + distances {
                    let symbol = length_code.decode(&mut bits)?;
                    let (value, repeat) = match symbol {
                        0..=15 => (symbol as u8, 1),
                        16 => (*all.last().ok_or("repeat with no length before")?, 3 + bits.bits(2)? as usize),
                        17 => (0, 3 + bits.bits(3)? as usize),
                        _ => (0, 11 + bits.bits(7)? as usize),
                    };
                    all.extend(std::iter::repeat_n(value, repeat));
                }
                if all.len() > literals + distances {
                    return Err("code lengths overrun".into());
                }
                codes(&mut bits, &mut out, &Huffman::new(&all[..literals]), &Huffman::new(&all[literals..]))?;
            }
            _ => return Err("reserved deflate block type".into()),
        }
        if last {
            return Ok(out);
        }
    }
}

fn codes(bits: &mut Bits, out: &mut Vec<u8>, literal: &Huffman, distance: &Huffman) -> Result<(), String> {
    loop {
        let symbol = literal.decode(bits)? as usize;
        match symbol {
            0..=255 => out.push(symbol as u8),
            256 => return Ok(()),
            _ => {
                let at = symbol - 257;
                let length = *LENGTH_BASE.get(at).ok_or("bad length symbol")? as usize
                    + bits.bits(LENGTH_EXTRA[at] as u32)? as usize;
                let at = distance.decode(bits)? as usize;
                let back = *DISTANCE_BASE.get(at).ok_or("bad distance symbol")? as usize
                    + bits.bits(DISTANCE_EXTRA[at] as u32)? as usize;
                if back > out.len() {
                    return Err("distance reaches before the start".into());
                }
                let start = out.len() - back;
                for i in 0..length {
                    out.push(out[start + i]);
                }
            }
        }
    }
}
