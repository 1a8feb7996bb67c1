//! ClickHouse's RowBinary format, both ways, for the few types the events table uses: integers
//! little-endian at their width, `String` as a LEB128 length and its bytes, `FixedString(N)` as
//! its N bytes. Inserts are written in it (no escaping to get wrong) and loads read in it (no text
//! to parse), as 18.16 and current servers both speak it.

use std::io::{BufRead, ErrorKind};

/// Appends rows' values to one buffer, the body of an `INSERT ... FORMAT RowBinary`.
#[derive(Default)]
pub(crate) struct RowWriter {
    pub bytes: Vec<u8>,
}

impl RowWriter {
    pub fn i64(&mut self, value: i64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn u32(&mut self, value: u32) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn u16(&mut self, value: u16) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn fixed(&mut self, value: &[u8]) {
        self.bytes.extend_from_slice(value);
    }

    pub fn string(&mut self, value: &str) {
        let mut length = value.len() as u64;
        loop {
            let byte = (length & 0x7f) as u8;
            length >>= 7;
            if length == 0 {
                self.bytes.push(byte);
                break;
            }
            self.bytes.push(byte | 0x80);
        }
        self.bytes.extend_from_slice(value.as_bytes());
    }
}

/// Reads values from an answer in RowBinary; every read says what went wrong in words, since an
/// answer can end early (a server stopped mid-answer) or carry an exception's text.
pub(crate) struct RowReader<R> {
    input: R,
    scratch: Vec<u8>,
}

/// Why an answer could not be read.
pub(crate) type ReadError = String;

impl<R: BufRead> RowReader<R> {
    pub fn new(input: R) -> RowReader<R> {
        RowReader { input, scratch: Vec::new() }
    }

    /// Whether the answer has ended (at a row boundary, where this is asked).
    pub fn at_end(&mut self) -> Result<bool, ReadError> {
        match self.input.fill_buf() {
            Ok(buffer) => Ok(buffer.is_empty()),
            Err(e) => Err(format!("the answer broke off: {e}")),
        }
    }

    fn exact<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let mut bytes = [0u8; N];
        self.input.read_exact(&mut bytes).map_err(|e| ended(&e))?;
        Ok(bytes)
    }

    pub fn i64(&mut self) -> Result<i64, ReadError> {
        Ok(i64::from_le_bytes(self.exact()?))
    }

    pub fn u32(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.exact()?))
    }

    pub fn u16(&mut self) -> Result<u16, ReadError> {
        Ok(u16::from_le_bytes(self.exact()?))
    }

    pub fn u8(&mut self) -> Result<u8, ReadError> {
        Ok(self.exact::<1>()?[0])
    }

    /// A variable-length count (LEB128), as a string's length or an array's size is written.
    pub fn count(&mut self) -> Result<u64, ReadError> {
        let mut count: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            count |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        Ok(count)
    }

    /// An `Array(UInt32)` value.
    pub fn u32_array(&mut self) -> Result<Vec<u32>, ReadError> {
        let length = self.count()?;
        // Arrays here are a customer's slots: a huge length is a misread answer, not data.
        let length = usize::try_from(length).ok().filter(|&l| l <= 1 << 24).ok_or_else(|| format!("an array of {length} values: the answer is not RowBinary"))?;
        (0..length).map(|_| self.u32()).collect()
    }

    /// A `String` value, borrowed until the next read; refuses one that is not UTF-8.
    pub fn string(&mut self) -> Result<&str, ReadError> {
        let length = self.count()?;
        // Values are at most what was inserted; a huge length is a misread answer, not data.
        let length = usize::try_from(length).ok().filter(|&l| l <= 1 << 30).ok_or_else(|| format!("a string of {length} bytes: the answer is not RowBinary"))?;
        self.scratch.resize(length, 0);
        self.input.read_exact(&mut self.scratch).map_err(|e| ended(&e))?;
        std::str::from_utf8(&self.scratch).map_err(|_| "a string that is not UTF-8".to_string())
    }
}

fn ended(error: &std::io::Error) -> ReadError {
    if error.kind() == ErrorKind::UnexpectedEof { "the answer ended in the middle of a row".to_string() } else { format!("the answer broke off: {error}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_written_are_read_back() {
        let mut writer = RowWriter::default();
        writer.i64(-5);
        writer.u32(7);
        writer.u16(999);
        writer.string("");
        writer.string(&"é".repeat(100));
        writer.u64(u64::MAX);
        // An Array(UInt32) of 200 values: a two-byte count, then the values.
        writer.bytes.extend_from_slice(&[200, 1]);
        (0..200u32).for_each(|v| writer.u32(v));
        let mut reader = RowReader::new(&writer.bytes[..]);
        assert_eq!(reader.i64().unwrap(), -5);
        assert_eq!(reader.u32().unwrap(), 7);
        assert_eq!(reader.u16().unwrap(), 999);
        assert_eq!(reader.string().unwrap(), "");
        assert_eq!(reader.string().unwrap(), "é".repeat(100));
        assert_eq!(reader.i64().unwrap(), -1);
        assert_eq!(reader.u32_array().unwrap(), (0..200).collect::<Vec<u32>>());
        assert!(reader.at_end().unwrap());
        // A cut answer is an error, not a panic.
        let mut cut = RowReader::new(&writer.bytes[..3]);
        assert!(cut.i64().unwrap_err().contains("ended"));
    }
}
