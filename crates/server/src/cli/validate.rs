//! `pregon validate`: a campaign file checked offline, with no server and no database, by the pipeline the server
//! runs (sniffing, unwrapping, reading, the row model, validation), against templates read from a JSON file.

use super::campaigns::MappingArgs;
use super::{CliError, EXIT_ROWS_REJECTED};
use crate::http::uploads::{UploadInput, native_spec};
use clap::Args;
use pregon_core::message::Rejection;
use pregon_core::template::Template;
use pregon_ingest::Limits;
use pregon_ingest::pipeline::{self, PipelineError, Summary};
use pregon_ingest::validate::TemplateBook;
use std::collections::HashSet;
use std::path::PathBuf;

/// `validate`.
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The campaign file: CSV, XLS, XLSX or JSON, possibly zipped, gzipped or tarred.
    file: PathBuf,
    /// The account's templates: a JSON array of Meta `message_templates` items (name, language, status, category,
    /// components), or a whole listing response (`{"data": [...]}`).
    #[arg(long, value_name = "TEMPLATES.json")]
    templates: PathBuf,
    /// The language of rows that name none, as the account's `default_language` would give it.
    #[arg(long, value_name = "CODE")]
    default_language: Option<String>,
    /// The country (ISO 3166 alpha-2) of phone numbers written without a country code, as the account's
    /// `default_region` would give it.
    #[arg(long, value_name = "CC")]
    default_region: Option<String>,
    #[command(flatten)]
    mapping: MappingArgs,
}

/// Check the file and print the report; the exit code says whether every row is accepted.
pub fn run(args: &ValidateArgs) -> Result<u8, CliError> {
    // A missing file is the user's typo, not a file the pipeline finds unusable.
    std::fs::File::open(&args.file)
        .map_err(|e| CliError::Other(format!("cannot open {}: {e}", args.file.display())))?;
    let book = TemplateBook::new(read_templates(args)?);

    // The same form fields `campaign upload` sends, read by the server's own code: the row model, the sheet and the
    // campaign-wide template are decided exactly as for an upload.
    let input = UploadInput {
        fields: args
            .mapping
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        ..UploadInput::default()
    };
    let spec = native_spec(&input).map_err(|e| CliError::Usage(e.message))?;
    if let Some(name) = &spec.template {
        // What the server checks before it accepts a mapping-model upload.
        let template = book
            .find(name, spec.language.as_deref(), args.default_language.as_deref())
            .map_err(|e| CliError::Other(format!("--template: {e} (in {})", args.templates.display())))?;
        if !template.is_sendable() {
            return Err(CliError::Other(format!(
                "--template: the template `{name}` is {}, not APPROVED",
                template.status
            )));
        }
    }
    let options = spec
        .pipeline_options_with(
            args.default_language.clone(),
            args.default_region.clone(),
            Limits::default(),
            0,
        )
        .map_err(|e| CliError::Usage(format!("--param: {e}")))?;

    let mut rejections: Vec<Rejection> = Vec::new();
    // Opt-outs live in the server's database: offline, nobody has opted out.
    let summary = pipeline::run(&args.file, book, HashSet::new(), &options, |batch| {
        rejections.extend(batch.rejections);
        // Rows accepted in an earlier batch that turned out to repeat an earlier phone.
        rejections.extend(batch.withdrawn);
        Ok::<_, std::convert::Infallible>(())
    });
    let summary = summary.map_err(|e| match e {
        PipelineError::File(f) => CliError::FileUnusable {
            reason: f.reason().to_owned(),
            message: f.to_string(),
        },
        PipelineError::Sink(never) => match never {},
    })?;
    rejections.sort_by_key(|r| r.row_number);
    print_report(args, &summary, &rejections);
    Ok(if summary.rejected == 0 { 0 } else { EXIT_ROWS_REJECTED })
}

/// The templates of the file. One the server would refuse to store is left out with a warning, as ingestion leaves
/// out a stored definition that no longer parses: rows naming it are then `unknown_template`.
fn read_templates(args: &ValidateArgs) -> Result<Vec<Template>, CliError> {
    let items = super::accounts::read_templates_file(&args.templates)?;
    let mut templates = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match Template::from_meta(item) {
            Ok(t) => templates.push(t),
            Err(e) => {
                let name = item.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                eprintln!(
                    "pregon: warning: {} [{i}] (`{name}`) is left out: {}: {}",
                    args.templates.display(),
                    e.path,
                    e.reason
                );
            }
        }
    }
    if templates.is_empty() {
        eprintln!(
            "pregon: warning: {} has no usable template: every row will be rejected",
            args.templates.display()
        );
    }
    Ok(templates)
}

fn print_report(args: &ValidateArgs, summary: &Summary, rejections: &[Rejection]) {
    let mut format = summary.format.clone();
    if !summary.wrapped_in.is_empty() {
        format = format!("{format} in {}", summary.wrapped_in.join(", "));
    }
    println!("{:<10}{} ({format})", "file", args.file.display());
    println!("{:<10}{}", "rows", summary.rows);
    println!("{:<10}{}", "accepted", summary.accepted);
    println!("{:<10}{}", "rejected", summary.rejected);
    if rejections.is_empty() {
        return;
    }
    println!();
    println!("{:<7} {:<18} {:<26} message", "row", "column", "code");
    for r in rejections {
        println!(
            "{:<7} {:<18} {:<26} {}",
            r.row_number,
            r.column.as_deref().unwrap_or("-"),
            r.code,
            r.message
        );
    }
}
