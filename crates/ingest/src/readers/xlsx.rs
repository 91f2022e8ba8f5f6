//! XLSX, streamed with calamine's cell reader (`worksheet_range` would hold the whole sheet: 314 MB for 1 M rows
//! against 9 MB streamed, crates.md §6).
//!
//! The cell reader borrows the workbook, and the row stream must own both and be `Send`, so a thread owns the
//! workbook and hands rows over a small bounded channel: memory stays at a few batches of rows, and when the
//! stream is dropped the thread's next send fails and it stops.
//!
//! Row number = the sheet's row index + 1 (header = row 1 in a sheet that starts at A1). Cells of a row are put in
//! column order with gaps filled by "".

use super::cell::cell_text;
use super::{Rows, header, is_blank, pick_sheet, shape};
use crate::FileError;
use crate::record::ReadItem;
use calamine::{Reader, Xlsx};
use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Rows per message: amortises the channel over many rows.
const BATCH: usize = 256;
/// Batches in flight: bounds what the reader thread runs ahead.
const IN_FLIGHT: usize = 4;
/// Excel's column limit; a cell reference past it is a broken file, not a reason to allocate.
const MAX_COLUMNS: usize = 16_384;

enum Message {
    Header(Arc<[String]>),
    Rows(Vec<ReadItem>),
    Failed(FileError),
    End,
}

/// Open the sheet (`sheet`, or the first), read its header, and stream the rest.
pub fn read<R>(input: R, sheet: Option<&str>) -> Result<(Arc<[String]>, Rows), FileError>
where
    R: Read + Seek + Send + 'static,
{
    let mut workbook: Xlsx<R> = Xlsx::new(input).map_err(unreadable)?;
    let name = pick_sheet(&workbook.sheet_names(), sheet)?;
    // Fail here, not in the thread, when the sheet's part is missing.
    drop(workbook.worksheet_cells_reader(&name).map_err(unreadable)?);
    let (tx, rx) = sync_channel(IN_FLIGHT);
    std::thread::Builder::new()
        .name("pregon-xlsx".into())
        .spawn(move || produce(workbook, &name, &tx))?;
    let columns = match rx.recv() {
        Ok(Message::Header(columns)) => columns,
        Ok(Message::Failed(e)) => return Err(e),
        Ok(Message::End) => return Err(FileError::Empty),
        Ok(Message::Rows(_)) | Err(_) => return Err(stopped()),
    };
    let rows = XlsxRows {
        rx,
        batch: Vec::new().into_iter(),
        done: false,
    };
    Ok((columns, Box::new(rows)))
}

fn unreadable(e: calamine::XlsxError) -> FileError {
    FileError::Unreadable(e.to_string())
}

fn stopped() -> FileError {
    FileError::Unreadable("the XLSX reader stopped unexpectedly".into())
}

/// Runs on the reader thread. A failed send means the stream was dropped: stop quietly.
fn produce<R: Read + Seek>(mut workbook: Xlsx<R>, sheet: &str, tx: &SyncSender<Message>) {
    let result = (|| -> Result<(), Stop> {
        let mut cells = workbook
            .worksheet_cells_reader(sheet)
            .map_err(|e| Stop::Failed(unreadable(e)))?;
        let mut assembler = Assembler::new(tx);
        while let Some(cell) = cells.next_cell().map_err(|e| Stop::Failed(unreadable(e)))? {
            let (row, col) = cell.get_position();
            assembler.cell(row, col as usize, cell_text(cell.get_value()))?;
        }
        assembler.finish()
    })();
    let last = match result {
        Ok(()) => Message::End,
        Err(Stop::Failed(e)) => Message::Failed(e),
        Err(Stop::Dropped) => return,
    };
    let _ = tx.send(last);
}

enum Stop {
    Failed(FileError),
    Dropped,
}

/// Puts cells, which arrive row-major, back into rows.
struct Assembler<'a> {
    tx: &'a SyncSender<Message>,
    row: Option<u32>,
    values: Vec<String>,
    columns: Option<Arc<[String]>>,
    batch: Vec<ReadItem>,
}

impl<'a> Assembler<'a> {
    fn new(tx: &'a SyncSender<Message>) -> Self {
        Assembler {
            tx,
            row: None,
            values: Vec::new(),
            columns: None,
            batch: Vec::with_capacity(BATCH),
        }
    }

    fn cell(&mut self, row: u32, col: usize, text: String) -> Result<(), Stop> {
        if self.row != Some(row) {
            self.flush()?;
            self.row = Some(row);
        }
        if text.is_empty() {
            return Ok(());
        }
        if col >= MAX_COLUMNS {
            return Err(Stop::Failed(FileError::Unreadable(format!(
                "row {} has a cell past Excel's last column",
                u64::from(row) + 1
            ))));
        }
        if col >= self.values.len() {
            self.values.resize(col + 1, String::new());
        }
        self.values[col] = text;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Stop> {
        let Some(row) = self.row.take() else {
            return Ok(());
        };
        let values = std::mem::take(&mut self.values);
        match &self.columns {
            None => {
                if !is_blank(&values) {
                    let columns = header(values);
                    self.columns = Some(Arc::clone(&columns));
                    self.tx.send(Message::Header(columns)).map_err(|_| Stop::Dropped)?;
                }
            }
            Some(columns) => {
                if let Some(item) = shape(u64::from(row) + 1, columns, values) {
                    self.batch.push(item);
                    if self.batch.len() >= BATCH {
                        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
                        self.tx.send(Message::Rows(batch)).map_err(|_| Stop::Dropped)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), Stop> {
        self.flush()?;
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.tx.send(Message::Rows(batch)).map_err(|_| Stop::Dropped)?;
        }
        Ok(())
    }
}

struct XlsxRows {
    rx: Receiver<Message>,
    batch: std::vec::IntoIter<ReadItem>,
    done: bool,
}

impl Iterator for XlsxRows {
    type Item = Result<ReadItem, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.batch.next() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            match self.rx.recv() {
                Ok(Message::Rows(batch)) => self.batch = batch.into_iter(),
                Ok(Message::End) => self.done = true,
                Ok(Message::Failed(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(Message::Header(_)) | Err(_) => {
                    self.done = true;
                    return Some(Err(stopped()));
                }
            }
        }
    }
}
