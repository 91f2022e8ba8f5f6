//! Checks of an XLS before calamine opens it, for what calamine 0.38 does not bound. It parses the whole workbook in
//! `Xls::new`, and three things there grow with what the file declares rather than with its size:
//!
//! - Sector chains (`cfb.rs` `Sectors::get_chain`) are followed through the FAT until they end or the stream's
//!   declared length is reached, and the directory's chain has no declared length at all: a chain that loops
//!   (sector 0 → 0) appends the same sector until memory runs out (found by fuzzing: a 4.6 KB file allocated past
//!   2 GiB). One FAT sector is read per DIFAT entry, so a DIFAT naming the same sector many times builds a FAT many
//!   times the file's size.
//! - A sheet's cells become one dense grid spanning the lowest to the highest cell (`Range::from_sparse`): one cell
//!   at column 65,535 (BIFF stores columns as 16 bits; Excel writes at most 256) made a 5.6 KB file ask for 136 GB
//!   (found by fuzzing).
//! - A sheet's Dimensions record reserves rows × columns cells before any is read, and its row count is 32 bits.
//!
//! So the container is read the way calamine's `Cfb::new` reads it (the same reads, with the same zero-filling past
//! the end) and refused when it lists more FAT sectors than it has sectors or when its FAT has a cycle; then the
//! workbook stream calamine would read is walked record by record, each sheet from where calamine starts it, and
//! refused when a cell lies past column 256 or a Dimensions record spans more than Excel's 65,536 × 256. A valid file
//! never does any of these, and with none of them calamine holds at most the file and a grid of 65,536 × 256 cells,
//! the bound the XLS reader documents. Anything else wrong is left to calamine to report (or, for its panics,
//! `guard_calamine`): these checks refuse only what calamine would not survive.

use crate::FileError;
use std::io::{self, Read, Seek, SeekFrom};

const HEADER: usize = 512;
const SIGNATURE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
/// Sector ids from here up are markers (DIFAT sector, FAT sector, end of chain, free), not sectors.
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
/// calamine reads every DIFAT entry below this as a FAT sector.
const DIFSECT: u32 = 0xFFFF_FFFC;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
/// Excel's sheet size, rows × columns (BIFF8).
const MAX_ROWS: u64 = 65_536;
const MAX_COLUMNS: u64 = 256;

/// Refuse a workbook calamine would loop on or inflate; leaves `reader` at its start.
pub(crate) fn check<R: Read + Seek>(reader: &mut R) -> Result<(), FileError> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let result = match check_from_start(reader, len) {
        Ok(()) | Err(Stop::Calamine) => Ok(()),
        Err(Stop::Refuse(why)) => Err(FileError::Unreadable(format!("its structure is broken ({why})"))),
        Err(Stop::Io(e)) => Err(e.into()),
    };
    reader.seek(SeekFrom::Start(0))?;
    result
}

/// Why the walk stopped early.
enum Stop {
    /// calamine stops here too, with an error or a (guarded) panic, before it holds anything large.
    Calamine,
    /// What calamine would not survive.
    Refuse(&'static str),
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

/// Where calamine's reading of a sector or chain ends up.
enum Fail {
    /// An error it returns (a sector past the end).
    Error,
    /// A panic (an index out of bounds).
    Panic,
    Io(io::Error),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail::Io(e)
    }
}

impl From<Fail> for Stop {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Error | Fail::Panic => Stop::Calamine,
            Fail::Io(e) => Stop::Io(e),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn check_from_start<R: Read>(r: &mut R, len: u64) -> Result<(), Stop> {
    let mut head = [0u8; HEADER];
    if read_full(r, &mut head)? < HEADER || !head.starts_with(SIGNATURE) {
        return Err(Stop::Calamine);
    }
    let field16 = |at| u16::from_le_bytes([head[at], head[at + 1]]);
    let field32 = |at| u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let size = match field16(30) {
        0x0009 => 512,
        0x000C => {
            // The header of a 4096-byte-sector file fills a whole sector.
            let mut rest = [0u8; 4096 - HEADER];
            if read_full(r, &mut rest)? < rest.len() {
                return Err(Stop::Calamine);
            }
            4096
        }
        _ => return Err(Stop::Calamine),
    };
    if field16(32) != 0x0006 {
        return Err(Stop::Calamine);
    }
    let version = field16(26);
    let dir_start = field32(48);
    let mini_fat_start = field32(60);
    let mini_fat_len = field32(64) as usize;
    let maxid = usize::try_from(len).unwrap_or(usize::MAX) / size;
    let mut sectors = Sectors {
        data: Vec::new(),
        size,
        maxid: maxid as u32,
    };

    let mut difat = words(&head[76..HEADER]);
    let mut sector_id = field32(68);
    let mut difat_sectors = 0usize;
    while sector_id < RESERVED_SECTORS {
        difat_sectors += 1;
        if difat_sectors > maxid.saturating_add(1) {
            return Err(Stop::Calamine);
        }
        difat.extend(whole_words(sectors.get(sector_id, r)?)?);
        sector_id = difat.pop().ok_or(Stop::Calamine)?;
    }

    let fat_sectors: Vec<u32> = difat.into_iter().filter(|id| *id < DIFSECT).collect();
    // Each FAT sector is a sector of the file: more of them than the file has means some are listed again.
    if fat_sectors.len() > maxid.saturating_add(1) {
        return Err(Stop::Refuse("its FAT lists more sectors than the file holds"));
    }
    let mut fat = Vec::new();
    for id in fat_sectors {
        fat.extend(whole_words(sectors.get(id, r)?)?);
    }
    if has_cycle(&fat, maxid) {
        return Err(Stop::Refuse("a sector chain loops back on itself"));
    }

    // The directory and the mini stream, as `Cfb::new` reads them; with no cycle, every chain is bounded.
    let dirs: Vec<Directory> = sectors
        .chain(dir_start, &fat, r, usize::MAX)?
        .chunks_exact(128)
        .map(|entry| Directory::from_slice(entry, size))
        .collect();
    let root = dirs.first().ok_or(Stop::Calamine)?;
    if version != 3 && root.start == ENDOFCHAIN {
        return Err(Stop::Calamine);
    }
    let (mini_fat, ministream) = if mini_fat_len > 0 {
        let ministream = sectors.chain(root.start, &fat, r, root.len)?;
        let mini_fat = sectors.chain(mini_fat_start, &fat, r, mini_fat_len.saturating_mul(size))?;
        (whole_words(&mini_fat)?, ministream)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut minis = Sectors {
        data: ministream,
        size: 64,
        maxid: (maxid * 8) as u32,
    };
    let mut stream = |name: &str| -> Result<Vec<u8>, Fail> {
        let d = dirs
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
            .ok_or(Fail::Error)?;
        if d.len < 4096 {
            minis.chain(d.start, &mini_fat, r, d.len)
        } else {
            sectors.chain(d.start, &fat, r, d.len)
        }
    };
    let workbook = match stream("Workbook") {
        Ok(s) => s,
        Err(Fail::Error) => stream("Book")?,
        Err(other) => return Err(other.into()),
    };
    check_sheets(&workbook)
}

/// Walk the workbook stream as `Xls::parse_workbook` does: the globals for every sheet's offset, then each sheet from
/// its offset, outside embedded substreams, to its EOF record.
fn check_sheets(workbook: &[u8]) -> Result<(), Stop> {
    let mut offsets = Vec::new();
    for record in Records(workbook) {
        let Ok((kind, data)) = record else {
            break;
        };
        // BoundSheet8: the sheet's BOF offset in the stream.
        if kind == 0x0085
            && let Some(at) = u32_at(data, 0)
        {
            offsets.push(at as usize);
        }
    }
    for at in offsets {
        let Some(sheet) = workbook.get(at..) else {
            continue;
        };
        let mut seen_bof = false;
        let mut depth = 0usize;
        for record in Records(sheet) {
            let Ok((kind, data)) = record else {
                break;
            };
            if depth > 0 {
                match kind {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            match kind {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                0x0200 => check_dimensions(data)?,
                // Number, Label, RString, BoolErr, Rk, LabelSst, Formula: row and column first.
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                    check_column(u16_at(data, 2))?;
                }
                // MulRk: the first column, and the last one at the end.
                0x00BD if data.len() >= 6 => {
                    check_column(u16_at(data, 2))?;
                    check_column(u16_at(data, data.len() - 2))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn check_column(column: Option<u16>) -> Result<(), Stop> {
    match column {
        Some(c) if u64::from(c) >= MAX_COLUMNS => Err(Stop::Refuse("a cell lies past column 256")),
        _ => Ok(()),
    }
}

/// The grid calamine reserves for a Dimensions record, computed as it does (wrapping, as its release build does).
fn check_dimensions(data: &[u8]) -> Result<(), Stop> {
    let fields = match data.len() {
        10 => u16_at(data, 0)
            .zip(u16_at(data, 2))
            .zip(u16_at(data, 4).zip(u16_at(data, 6)))
            .map(|((rf, rl), (cf, cl))| (u32::from(rf), u32::from(rl), u32::from(cf), u32::from(cl))),
        14 | 16 => u32_at(data, 0)
            .zip(u32_at(data, 4))
            .zip(u16_at(data, 8).zip(u16_at(data, 10)))
            .map(|((rf, rl), (cf, cl))| (rf, rl, u32::from(cf), u32::from(cl))),
        _ => None,
    };
    let Some((rf, rl, mut cf, cl)) = fields else {
        return Ok(());
    };
    if 0xFF < cf || cl < cf {
        cf = 0;
    }
    let (start, end) = if 1 <= rl && 1 <= cl {
        ((rf, cf), (rl - 1, cl - 1))
    } else {
        ((rf, cf), (rf, cf))
    };
    let rows = u64::from(end.0.wrapping_sub(start.0).wrapping_add(1));
    let columns = u64::from(end.1.wrapping_sub(start.1).wrapping_add(1));
    if rows > MAX_ROWS || columns > MAX_COLUMNS {
        return Err(Stop::Refuse("a sheet declares more than 65,536 rows or 256 columns"));
    }
    Ok(())
}

/// BIFF records as calamine's `RecordIter` frames them: type, length, data (CONTINUE records are folded into the
/// record before them, which only matters for data this check does not read).
struct Records<'a>(&'a [u8]);

impl<'a> Iterator for Records<'a> {
    type Item = Result<(u16, &'a [u8]), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let (Some(kind), Some(len)) = (u16_at(self.0, 0), u16_at(self.0, 2)) else {
            return Some(Err(()));
        };
        let Some(data) = self.0.get(4..4 + len as usize) else {
            return Some(Err(()));
        };
        self.0 = &self.0[4 + len as usize..];
        if self.0.len() > 4 && u16_at(self.0, 0) == Some(0x003C) {
            while self.0.len() > 4 && u16_at(self.0, 0) == Some(0x003C) {
                let Some(len) = u16_at(self.0, 2) else {
                    return Some(Err(()));
                };
                if self.0.len() < 4 + len as usize {
                    return Some(Err(()));
                }
                self.0 = &self.0[4 + len as usize..];
            }
        }
        Some(Ok((kind, data)))
    }
}

/// A directory entry, as calamine reads it: the name up to its first NUL, the first sector and the length.
struct Directory {
    name: String,
    start: u32,
    len: usize,
}

impl Directory {
    fn from_slice(entry: &[u8], size: usize) -> Directory {
        let units = entry[..64].chunks_exact(2).map(|u| u16::from_le_bytes([u[0], u[1]]));
        let mut name: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        if let Some(nul) = name.find('\0') {
            name.truncate(nul);
        }
        let start = u32_at(entry, 116).unwrap_or(ENDOFCHAIN);
        let len = if size == 512 {
            u32_at(entry, 120).map_or(0, |l| l as usize)
        } else {
            entry
                .get(120..128)
                .and_then(|b| b.try_into().ok())
                .map_or(0, |b| u64::from_le_bytes(b) as usize)
        };
        Directory { name, start, len }
    }
}

/// Whether following `fat` from some sector comes back to it. Only sectors up to `maxid` (and within the FAT) can be
/// visited: calamine stops with an error at any other id.
fn has_cycle(fat: &[u32], maxid: usize) -> bool {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let n = fat.len().min(maxid.saturating_add(1));
    let mut state = vec![NEW; n];
    let mut path = Vec::new();
    for start in 0..n {
        let mut at = start;
        while at < n && state[at] == NEW {
            state[at] = ON_PATH;
            path.push(at);
            at = usize::try_from(fat[at]).unwrap_or(usize::MAX);
        }
        if at < n && state[at] == ON_PATH {
            return true;
        }
        for visited in path.drain(..) {
            state[visited] = DONE;
        }
    }
    false
}

/// calamine's sector cache, read for read: sectors are read in order into one buffer, zero-filled past the end of
/// the file, and a sector cut by the end comes back short the first time.
struct Sectors {
    data: Vec<u8>,
    size: usize,
    maxid: u32,
}

impl Sectors {
    fn get<R: Read>(&mut self, id: u32, r: &mut R) -> Result<&[u8], Fail> {
        if self.maxid < id {
            return Err(Fail::Error);
        }
        let start = id as usize * self.size;
        let end = start + self.size;
        if end > self.data.len() {
            let mut len = self.data.len();
            self.data.resize(end, 0);
            while len < end {
                let read = r.read(&mut self.data[len..end])?;
                if read == 0 {
                    return self.data.get(start..len).ok_or(Fail::Panic);
                }
                len += read;
            }
        }
        self.data.get(start..end).ok_or(Fail::Panic)
    }

    /// `Sectors::get_chain`: up to `len` bytes of the chain from `id`.
    fn chain<R: Read>(&mut self, mut id: u32, fat: &[u32], r: &mut R, len: usize) -> Result<Vec<u8>, Fail> {
        let mut out = Vec::new();
        while id != ENDOFCHAIN {
            let sector = self.get(id, r)?;
            let take = sector.len().min(len - out.len());
            out.extend_from_slice(&sector[..take]);
            if out.len() >= len {
                break;
            }
            id = *fat.get(id as usize).ok_or(Fail::Panic)?;
        }
        Ok(out)
    }
}

/// Little-endian u32s of a buffer whose length calamine asserts is a multiple of 4 (else it panics).
fn whole_words(bytes: &[u8]) -> Result<Vec<u32>, Fail> {
    if !bytes.len().is_multiple_of(4) {
        return Err(Fail::Panic);
    }
    Ok(words(bytes))
}

fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect()
}

/// Read until `buf` is full or the input ends, as calamine reads the header; the count read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_in_the_fat() {
        assert!(!has_cycle(&[1, 2, ENDOFCHAIN], 10));
        assert!(has_cycle(&[1, 2, 0], 10));
        assert!(has_cycle(&[ENDOFCHAIN, 1], 10));
        // A chain may run into another one (calamine reads it; it is bounded).
        assert!(!has_cycle(&[2, 2, ENDOFCHAIN], 10));
        // Sectors past the file's end are never visited: calamine stops there.
        assert!(!has_cycle(&[1, 2, 2], 1));
    }

    #[test]
    fn dimensions_past_excel_sizes_are_refused() {
        let biff8 = |rf: u32, rl: u32, cf: u16, cl: u16| {
            let mut d = Vec::new();
            d.extend_from_slice(&rf.to_le_bytes());
            d.extend_from_slice(&rl.to_le_bytes());
            d.extend_from_slice(&cf.to_le_bytes());
            d.extend_from_slice(&cl.to_le_bytes());
            d.extend_from_slice(&[0, 0]);
            check_dimensions(&d).is_ok()
        };
        assert!(biff8(0, 12, 0, 14));
        assert!(biff8(0, 65_536, 0, 256));
        assert!(!biff8(0, 65_537, 0, 1));
        assert!(!biff8(0, 1, 0, 257));
        // First row past the last: calamine's subtraction wraps to 2^32 rows.
        assert!(!biff8(10, 5, 0, 1));
    }
}
