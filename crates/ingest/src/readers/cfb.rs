//! A check of an XLS's container (Compound File Binary) before calamine opens it, for what calamine 0.38 does not
//! bound.
//!
//! calamine follows a stream's sector chain through the FAT (`cfb.rs` `Sectors::get_chain`) until it ends or the
//! stream's declared length is reached, and the directory's chain has no declared length at all. A chain that loops
//! (sector 9 → 9) therefore appends the same sector until memory runs out: found by fuzzing, a 4.6 KB file made it
//! allocate past 2 GiB. And it reads one FAT sector per DIFAT entry, so a DIFAT naming the same sector many times
//! builds a FAT many times the file's size.
//!
//! So the header, DIFAT and FAT are read here the way calamine's `Cfb::new` reads them (the same sector reads, with
//! the same zero-filling past the end), and the file is refused when it lists more FAT sectors than it has sectors,
//! or when its FAT has a cycle. A FAT without a cycle makes every chain visit each sector at most once, so calamine
//! never holds more than the file. Anything else wrong is left to calamine to report (or, for its panics,
//! `guard_calamine`): this check refuses only what calamine would not survive.

use crate::FileError;
use std::io::{self, Read, Seek, SeekFrom};

const HEADER: usize = 512;
const SIGNATURE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
/// Sector ids from here up are markers (DIFAT sector, FAT sector, end of chain, free), not sectors.
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
/// calamine reads every DIFAT entry below this as a FAT sector.
const DIFSECT: u32 = 0xFFFF_FFFC;

/// Refuse a compound file calamine would loop on or inflate; leaves `reader` at its start.
pub(crate) fn check<R: Read + Seek>(reader: &mut R) -> Result<(), FileError> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let result = check_from_start(reader, len);
    reader.seek(SeekFrom::Start(0))?;
    result
}

fn broken(why: &str) -> FileError {
    FileError::Unreadable(format!("its structure is broken ({why})"))
}

fn check_from_start<R: Read>(r: &mut R, len: u64) -> Result<(), FileError> {
    let mut head = [0u8; HEADER];
    if read_full(r, &mut head)? < HEADER || !head.starts_with(SIGNATURE) {
        return Ok(());
    }
    let size = match u16::from_le_bytes([head[30], head[31]]) {
        0x0009 => 512,
        0x000C => {
            // The header of a 4096-byte-sector file fills a whole sector.
            let mut rest = [0u8; 4096 - HEADER];
            if read_full(r, &mut rest)? < rest.len() {
                return Ok(());
            }
            4096
        }
        _ => return Ok(()),
    };
    if u16::from_le_bytes([head[32], head[33]]) != 0x0006 {
        return Ok(());
    }
    let maxid = usize::try_from(len).unwrap_or(usize::MAX) / size;
    let mut sectors = Sectors {
        data: Vec::new(),
        size,
        maxid: u32::try_from(maxid).unwrap_or(u32::MAX),
    };

    let mut difat = words(&head[76..HEADER]);
    let mut sector_id = u32::from_le_bytes([head[68], head[69], head[70], head[71]]);
    let mut difat_sectors = 0usize;
    while sector_id < RESERVED_SECTORS {
        difat_sectors += 1;
        if difat_sectors > maxid.saturating_add(1) {
            return Ok(());
        }
        let Some(sector) = sectors.get(sector_id, r)? else {
            return Ok(());
        };
        if sector.len() % 4 != 0 {
            return Ok(());
        }
        difat.extend(words(sector));
        let Some(next) = difat.pop() else {
            return Ok(());
        };
        sector_id = next;
    }

    let fat_sectors: Vec<u32> = difat.into_iter().filter(|id| *id < DIFSECT).collect();
    // Each FAT sector is a sector of the file: more of them than the file has means some are listed again.
    if fat_sectors.len() > maxid.saturating_add(1) {
        return Err(broken("its FAT lists more sectors than the file holds"));
    }
    let mut fat = Vec::new();
    for id in fat_sectors {
        let Some(sector) = sectors.get(id, r)? else {
            return Ok(());
        };
        if sector.len() % 4 != 0 {
            return Ok(());
        }
        fat.extend(words(sector));
    }
    if has_cycle(&fat, maxid) {
        return Err(broken("a sector chain loops back on itself"));
    }
    Ok(())
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
    /// The sector, or `None` where calamine fails (an id past the end; a slice it would panic on).
    fn get<R: Read>(&mut self, id: u32, r: &mut R) -> io::Result<Option<&[u8]>> {
        if self.maxid < id {
            return Ok(None);
        }
        let start = id as usize * self.size;
        let end = start + self.size;
        if end > self.data.len() {
            let mut len = self.data.len();
            self.data.resize(end, 0);
            while len < end {
                let read = r.read(&mut self.data[len..end])?;
                if read == 0 {
                    return Ok(self.data.get(start..len));
                }
                len += read;
            }
        }
        Ok(self.data.get(start..end))
    }
}

/// Little-endian u32s (a trailing partial word is dropped; callers check lengths first).
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
        const END: u32 = 0xFFFF_FFFE;
        assert!(!has_cycle(&[1, 2, END], 10));
        assert!(has_cycle(&[1, 2, 0], 10));
        assert!(has_cycle(&[END, 1], 10));
        // A chain may run into another one (calamine reads it; it is bounded).
        assert!(!has_cycle(&[2, 2, END], 10));
        // Sectors past the file's end are never visited: calamine stops there.
        assert!(!has_cycle(&[1, 2, 2], 1));
    }
}
