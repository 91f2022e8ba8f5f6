use super::*;
use crate::template::{Rendered, RenderedKind, Template};
use serde_json::json;

const NS: &str = "XXXXXXXX_XXXX_XXXX_XXXX_XXXXXXXXXXXX";

fn ok(input: &str) -> Shorthand {
    match parse(input) {
        Ok(s) => s,
        Err(e) => panic!("refused {input:?}: {e}"),
    }
}

fn refused(input: &str) -> ShorthandError {
    match parse(input) {
        Ok(s) => panic!("accepted {input:?}: {s:?}"),
        Err(e) => e,
    }
}

fn at(line: usize, column: usize) -> Position {
    Position { line, column }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn buttons(v: &[(usize, &str)]) -> Vec<ButtonParam> {
    v.iter()
        .map(|(index, value)| ButtonParam {
            index: *index,
            value: value.to_string(),
        })
        .collect()
}

/// The message the guide's JSON examples describe: namespace `XXXXXXXX_…`, `hello_world`, `en_US`.
fn hello_world(params: TemplateParams, button_kinds: Vec<ButtonValueKind>) -> Shorthand {
    Shorthand {
        namespace: Some(NS.into()),
        template: "hello_world".into(),
        language: "en_US".into(),
        fallback: None,
        params,
        button_kinds,
    }
}

/// Parses, and checks that writing the result back reads back the same.
#[track_caller]
fn ok_round_trip(input: &str) -> Shorthand {
    let s = ok(input);
    let written = s.to_shorthand().unwrap_or_else(|| panic!("cannot write back {s:?}"));
    assert_eq!(ok(&written), s, "{written}");
    s
}

// The guide's "Sending Message Templates" JSON examples, one by one, written in the shorthand.

#[test]
fn seed_002_template_with_no_components() {
    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] ))&"
    ));
    assert_eq!(s, hello_world(TemplateParams::default(), vec![]));
}

#[test]
fn seed_002_message_with_body_variables() {
    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] body_text=[[My User Name]] \
         body_text=[[My Agent Name]] ))&"
    ));
    let params = TemplateParams {
        body: strings(&["My User Name", "My Agent Name"]),
        ..Default::default()
    };
    assert_eq!(s, hello_world(params, vec![]));
}

#[test]
fn seed_002_message_with_header_text_image_document() {
    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] header_text=[[My Title]] ))&"
    ));
    assert_eq!(s.params.header, Some(HeaderParam::Text("My Title".into())));

    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] header_image=[[https://image.jpg]] ))&"
    ));
    let image = HeaderParam::Media {
        kind: MediaKind::Image,
        url: "https://image.jpg".into(),
        filename: None,
    };
    assert_eq!(
        s,
        hello_world(
            TemplateParams {
                header: Some(image),
                ..Default::default()
            },
            vec![]
        )
    );

    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] \
         header_document=[[https://document.pdf]] header_filename=[[My Document]] ))&"
    ));
    assert_eq!(
        s.params.header,
        Some(HeaderParam::Media {
            kind: MediaKind::Document,
            url: "https://document.pdf".into(),
            filename: Some("My Document".into()),
        })
    );
    // The file name is optional.
    let s =
        ok_round_trip("&(( template=[[hello_world]] language=[[en_US]] header_document=[[https://document.pdf]] ))&");
    assert!(matches!(
        s.params.header,
        Some(HeaderParam::Media { filename: None, .. })
    ));
    assert_eq!(s.namespace, None);
}

#[test]
fn seed_002_message_with_quick_reply_buttons() {
    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] \
         button_index=[[0]] button_payload=[[TALK_TO_AGENT]] button_index=[[1]] button_payload=[[MORE_QUESTIONS]] \
         button_index=[[2]] button_payload=[[GOODBYE]] ))&"
    ));
    let params = TemplateParams {
        buttons: buttons(&[(0, "TALK_TO_AGENT"), (1, "MORE_QUESTIONS"), (2, "GOODBYE")]),
        ..Default::default()
    };
    assert_eq!(s, hello_world(params, vec![ButtonValueKind::Payload; 3]));
}

#[test]
fn seed_002_message_with_dynamic_url_button() {
    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] button_index=[[1]] \
         button_url=[[ticket.pdf]] ))&"
    ));
    let params = TemplateParams {
        buttons: buttons(&[(1, "ticket.pdf")]),
        ..Default::default()
    };
    assert_eq!(s, hello_world(params, vec![ButtonValueKind::Url]));
}

#[test]
fn seed_002_header_image_body_variables_three_quick_replies() {
    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] language=[[en_US]] header_image=[[https://image.jpg]] \
         body_text=[[My User Name]] body_text=[[My Agent Name]] button_index=[[0]] button_payload=[[TALK_TO_AGENT]] \
         button_index=[[1]] button_payload=[[MORE_QUESTIONS]] button_index=[[2]] button_payload=[[GOODBYE]] ))&"
    ));
    let params = TemplateParams {
        header: Some(HeaderParam::Media {
            kind: MediaKind::Image,
            url: "https://image.jpg".into(),
            filename: None,
        }),
        body: strings(&["My User Name", "My Agent Name"]),
        buttons: buttons(&[(0, "TALK_TO_AGENT"), (1, "MORE_QUESTIONS"), (2, "GOODBYE")]),
    };
    assert_eq!(s, hello_world(params.clone(), vec![ButtonValueKind::Payload; 3]));

    // And it renders against a matching template as the JSON form would.
    let template = match Template::from_meta(&json!({
        "name": "hello_world", "language": "en_US", "components": [
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Hi {{1}}, I'm {{2}}."},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Agent"},
                {"type": "QUICK_REPLY", "text": "More"},
                {"type": "QUICK_REPLY", "text": "Bye"}
            ]}
        ]
    })) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let rendered: Rendered = template.render(&s.params).unwrap();
    assert_eq!(rendered.kind, RenderedKind::Image);
    assert_eq!(rendered.media_url.as_deref(), Some("https://image.jpg"));
    assert_eq!(rendered.text, "Hi My User Name, I'm My Agent Name.");
    let payloads: Vec<_> = rendered
        .actions
        .iter()
        .map(|a| a.payload.clone().unwrap_or_default())
        .collect();
    assert_eq!(payloads, ["TALK_TO_AGENT", "MORE_QUESTIONS", "GOODBYE"]);
}

#[test]
fn seed_002_notification_api_template() {
    // "Send a templated text message": sample_hsm, language `en`, two body parameters.
    let s = ok_round_trip(&format!(
        "&(( namespace=[[{NS}]] template=[[sample_hsm]] language=[[en]] body_text=[[Sample Notification]] \
         body_text=[[Sample Notification]] ))&"
    ));
    assert_eq!(s.template, "sample_hsm");
    assert_eq!(s.language, "en");
    assert_eq!(s.params.body, strings(&["Sample Notification", "Sample Notification"]));
}

/// The guide's syntax line, with each of its `header_image/header_document/header_text` choices.
#[test]
fn seed_002_shorthand_syntax_line() {
    let line = "&(( namespace=[[namespace]] template=[[template]] fallback=[[fallback]] language=[[language]] \
                header_image/header_document/header_text=[[https://image.jpg/...]] header_filename=[[My File]] \
                body_text=[[param_1]] body_text=[[param_2]] button_index=[[0]] button_payload=[[payload]] \
                button_index=[[1]] button_url=[[channels/whatsapp]] ))&";
    // Taken literally it is a template of the syntax, not a message: `language` is a placeholder…
    assert_eq!(
        refused(line),
        ShorthandError::BadLanguage {
            value: "language".into(),
            position: at(1, 73)
        }
    );
    // …and so is the header field's name.
    let line = line.replace("language=[[language]]", "language=[[en_US]]");
    assert_eq!(
        refused(&line),
        ShorthandError::UnknownField {
            field: "header_image/header_document/header_text".into(),
            position: at(1, 92)
        }
    );

    let expected = |header: Option<HeaderParam>| Shorthand {
        namespace: Some("namespace".into()),
        template: "template".into(),
        language: "en_US".into(),
        fallback: Some("fallback".into()),
        params: TemplateParams {
            header,
            body: strings(&["param_1", "param_2"]),
            buttons: buttons(&[(0, "payload"), (1, "channels/whatsapp")]),
        },
        button_kinds: vec![ButtonValueKind::Payload, ButtonValueKind::Url],
    };
    let document = line.replace("header_image/header_document/header_text", "header_document");
    assert_eq!(
        ok_round_trip(&document),
        expected(Some(HeaderParam::Media {
            kind: MediaKind::Document,
            url: "https://image.jpg/...".into(),
            filename: Some("My File".into()),
        }))
    );
    // With an image or a text header, `header_filename` has no document to follow.
    let image = line.replace("header_image/header_document/header_text", "header_image");
    assert_eq!(
        refused(&image),
        ShorthandError::FilenameNotAfterDocument { position: at(1, 131) }
    );
    let image = image.replace(" header_filename=[[My File]]", "");
    assert_eq!(
        ok_round_trip(&image),
        expected(Some(HeaderParam::Media {
            kind: MediaKind::Image,
            url: "https://image.jpg/...".into(),
            filename: None,
        }))
    );
    let text = line
        .replace("header_image/header_document/header_text", "header_text")
        .replace(" header_filename=[[My File]]", "");
    assert_eq!(
        ok_round_trip(&text),
        expected(Some(HeaderParam::Text("https://image.jpg/...".into())))
    );
}

#[test]
fn seed_002_old_syntax() {
    let s = ok_round_trip(&format!("&[Welcome Bob, I'm Joe]({NS}, hello_world, Bob, Joe)"));
    assert_eq!(
        s,
        Shorthand {
            namespace: Some(NS.into()),
            template: "hello_world".into(),
            language: "en_US".into(),
            fallback: Some("Welcome Bob, I'm Joe".into()),
            params: TemplateParams {
                body: strings(&["Bob", "Joe"]),
                ..Default::default()
            },
            button_kinds: vec![],
        }
    );
    let s = ok(" &[Hi](ns,t) \n");
    assert_eq!((s.template.as_str(), s.params.body.len()), ("t", 0));
    assert!(matches!(refused("&[Hi]"), ShorthandError::OldSyntax { .. }));
    assert!(matches!(refused("&[Hi](ns, t"), ShorthandError::OldSyntax { .. }));
    assert!(matches!(
        refused("&[Hi](ns, t) and more"),
        ShorthandError::OldSyntax { .. }
    ));
    assert!(matches!(refused("&[Hi](ns)"), ShorthandError::OldSyntax { .. }));
    assert!(matches!(refused("&[Hi](, t)"), ShorthandError::OldSyntax { .. }));
    assert!(matches!(refused("&[Hi](ns, t, , x)"), ShorthandError::OldSyntax { .. }));
}

#[test]
fn whitespace_and_quoting() {
    // New lines, tabs, spaces around `=`, no space inside the markers, surrounding whitespace.
    let s = ok("\n  &((template=[[ t ]]\n\tlanguage = [[en-US]]\r\nbody_text=\n[[  two  spaces ]]))&  \n");
    assert_eq!(s.template, "t");
    assert_eq!(s.language, "en_US");
    assert_eq!(s.params.body, strings(&["  two  spaces "]));
    // Values are verbatim: markers, brackets, `=` and new lines inside them are text.
    let s = ok(
        "&(( template=[[t]] language=[[en]] body_text=[[a ))& b]] body_text=[[x=[[y]] fallback=[[line 1\nline 2]] ))&",
    );
    assert_eq!(s.params.body, strings(&["a ))& b", "x=[[y"]));
    assert_eq!(s.fallback.as_deref(), Some("line 1\nline 2"));
    // A run of `]` closes with its last two.
    let s = ok("&(( template=[[t]] language=[[en]] body_text=[[[x]]] body_text=[[y]]] ))&");
    assert_eq!(s.params.body, strings(&["[x]", "y]"]));
    // Multibyte text and whitespace.
    let s = ok("\u{3000}&(( template=[[t]]\u{a0}language=[[pt_BR]] body_text=[[São Paulo 😀]] ))&\u{2003}");
    assert_eq!(s.params.body, strings(&["São Paulo 😀"]));
    // An empty fallback is allowed, the rest must not be blank.
    assert_eq!(
        ok("&(( template=[[t]] language=[[en]] fallback=[[]] ))&")
            .fallback
            .as_deref(),
        Some("")
    );
}

#[test]
fn header_rules() {
    let base = "&(( template=[[t]] language=[[en]] ";
    let s = ok(&format!("{base}header_video=[[ https://cdn.example/v.mp4 ]] ))&"));
    assert_eq!(
        s.params.header,
        Some(HeaderParam::Media {
            kind: MediaKind::Video,
            url: "https://cdn.example/v.mp4".into(),
            filename: None
        })
    );
    assert_eq!(
        refused(&format!(
            "{base}header_text=[[a]] header_image=[[https://x.io/a.png]] ))&"
        )),
        ShorthandError::SecondHeader {
            field: "header_image",
            first: "header_text",
            position: at(1, 54)
        }
    );
    assert_eq!(
        refused(&format!("{base}header_text=[[a]] header_text=[[b]] ))&")),
        ShorthandError::SecondHeader {
            field: "header_text",
            first: "header_text",
            position: at(1, 54)
        }
    );
    // `header_filename` right after `header_document`, and nowhere else.
    assert_eq!(
        refused(&format!(
            "{base}header_filename=[[f]] header_document=[[https://x.io/a.pdf]] ))&"
        )),
        ShorthandError::FilenameNotAfterDocument { position: at(1, 36) }
    );
    assert_eq!(
        refused(&format!(
            "{base}header_document=[[https://x.io/a.pdf]] body_text=[[x]] header_filename=[[f]] ))&"
        )),
        ShorthandError::FilenameNotAfterDocument { position: at(1, 91) }
    );
    assert_eq!(
        refused(&format!(
            "{base}header_document=[[https://x.io/a.pdf]] header_filename=[[f]] header_filename=[[g]] ))&"
        )),
        ShorthandError::FilenameNotAfterDocument { position: at(1, 97) }
    );
    assert!(matches!(
        refused(&format!(
            "{base}header_video=[[https://x.io/a.mp4]] header_filename=[[f]] ))&"
        )),
        ShorthandError::FilenameNotAfterDocument { .. }
    ));
    assert!(matches!(
        refused(&format!("{base}header_filename=[[f]] ))&")),
        ShorthandError::FilenameNotAfterDocument { .. }
    ));
    // Media must be http(s).
    for url in [
        "smooch.io/a.jpg",
        "ftp://x.io/a",
        "https://",
        "https://x.io/a b.png",
        "javascript:alert(1)",
    ] {
        assert_eq!(
            refused(&format!("{base}header_image=[[{url}]] ))&")),
            ShorthandError::BadMediaUrl {
                field: "header_image",
                position: at(1, 36)
            },
            "{url}"
        );
    }
}

#[test]
fn button_rules() {
    let base = "&(( template=[[t]] language=[[en]] ";
    // Values pair with the latest open `button_index`, even with other fields between.
    let s = ok(&format!(
        "{base}button_index=[[2]] body_text=[[x]] button_url=[[a/b]] button_index=[[ 0 ]] button_payload=[[P]] ))&"
    ));
    assert_eq!(s.params.buttons, buttons(&[(2, "a/b"), (0, "P")]));
    assert_eq!(s.button_kinds, [ButtonValueKind::Url, ButtonValueKind::Payload]);
    assert_eq!(s.params.body, strings(&["x"]));

    assert_eq!(
        refused(&format!("{base}button_url=[[x]] ))&")),
        ShorthandError::ButtonValueWithoutIndex {
            field: "button_url",
            position: at(1, 36)
        }
    );
    assert_eq!(
        refused(&format!(
            "{base}button_index=[[0]] button_payload=[[a]] button_payload=[[b]] ))&"
        )),
        ShorthandError::ButtonValueWithoutIndex {
            field: "button_payload",
            position: at(1, 76)
        }
    );
    assert_eq!(
        refused(&format!(
            "{base}button_index=[[0]] button_index=[[1]] button_url=[[x]] ))&"
        )),
        ShorthandError::ButtonIndexWithoutValue {
            index: 0,
            position: at(1, 36)
        }
    );
    assert_eq!(
        refused(&format!("{base}body_text=[[a]]\nbutton_index=[[3]]\n))&")),
        ShorthandError::ButtonIndexWithoutValue {
            index: 3,
            position: at(2, 1)
        }
    );
    assert_eq!(
        refused(&format!(
            "{base}button_index=[[1]] button_url=[[a]] button_index=[[1]] button_url=[[b]] ))&"
        )),
        ShorthandError::DuplicateButton {
            index: 1,
            position: at(1, 72)
        }
    );
    for bad in ["10", "-1", "a", "1.0", "+1", "١", "99999999999999999999999", " "] {
        let e = refused(&format!("{base}button_index=[[{bad}]] button_url=[[x]] ))&"));
        assert!(matches!(e, ShorthandError::BadButtonIndex { .. }), "{bad}: {e:?}");
    }
    assert_eq!(
        ok(&format!("{base}button_index=[[9]] button_payload=[[x]] ))&"))
            .params
            .buttons[0]
            .index,
        9
    );
    assert_eq!(
        ok(&format!("{base}button_index=[[01]] button_payload=[[x]] ))&"))
            .params
            .buttons[0]
            .index,
        1
    );
}

#[test]
fn required_repeated_and_unknown_fields() {
    assert_eq!(refused("&(( language=[[en]] ))&"), ShorthandError::Missing("template"));
    assert_eq!(refused("&(( template=[[t]] ))&"), ShorthandError::Missing("language"));
    assert_eq!(refused("&(( ))&"), ShorthandError::Missing("template"));
    for field in ["namespace", "template", "language", "fallback"] {
        let input = format!("&(( template=[[t]] language=[[en]] namespace=[[n]] fallback=[[f]] {field}=[[en]] ))&");
        assert_eq!(
            refused(&input),
            ShorthandError::Duplicate {
                field: Field::from_name(field).unwrap().name(),
                position: at(1, 67)
            }
        );
    }
    let e = refused("&(( template=[[t]] Body_Text=[[x]] ))&");
    assert_eq!(
        e,
        ShorthandError::UnknownField {
            field: "Body_Text".into(),
            position: at(1, 20)
        }
    );
    assert!(e.to_string().contains("unknown field `Body_Text` at line 1, column 20"));
    assert!(matches!(
        refused("&(( template=[[t]] footer_text=[[x]] ))&"),
        ShorthandError::UnknownField { .. }
    ));
    assert!(
        matches!(refused("&(( tëmplate=[[t]] ))&"), ShorthandError::UnknownField { field, .. } if field == "tëmplate")
    );
    for (field, value) in [
        ("template", "  "),
        ("namespace", ""),
        ("language", " "),
        ("body_text", ""),
        ("body_text", " \t "),
        ("header_text", ""),
        ("header_image", " "),
    ] {
        let e = refused(&format!("&(( {field}=[[{value}]] template=[[t]] language=[[en]] ))&"));
        assert_eq!(
            e,
            ShorthandError::EmptyValue {
                field: Field::from_name(field).unwrap().name(),
                position: at(1, 5)
            }
        );
    }
    assert!(matches!(
        refused("&(( template=[[t]] language=[[en]] button_index=[[0]] button_url=[[ ]] ))&"),
        ShorthandError::EmptyValue {
            field: "button_url",
            ..
        }
    ));
    assert!(matches!(
        refused("&(( template=[[t]] language=[[en]] header_document=[[https://a.b/c]] header_filename=[[]] ))&"),
        ShorthandError::EmptyValue {
            field: "header_filename",
            ..
        }
    ));
    for bad in ["english", "EN", "en_", "e", "en_US_POSIX", "en US"] {
        assert!(
            matches!(
                refused(&format!("&(( template=[[t]] language=[[{bad}]] ))&")),
                ShorthandError::BadLanguage { .. }
            ),
            "{bad}"
        );
    }
}

#[test]
fn syntax_errors_name_the_place() {
    assert_eq!(refused(""), ShorthandError::NotShorthand { position: at(1, 1) });
    assert_eq!(refused("   "), ShorthandError::NotShorthand { position: at(1, 4) });
    assert_eq!(
        refused("Hello &(( template=[[t]] language=[[en]] ))&"),
        ShorthandError::NotShorthand { position: at(1, 1) }
    );
    assert_eq!(refused("\n\n  hi"), ShorthandError::NotShorthand { position: at(3, 3) });
    assert_eq!(
        refused("&(( template=[[t]] language=[[en]] ))& thanks"),
        ShorthandError::TextAfter { position: at(1, 40) }
    );
    assert_eq!(
        refused("&(( template=[[t]] language=[[en]] ))&&(( template=[[u]] language=[[en]] ))&"),
        ShorthandError::TextAfter { position: at(1, 39) }
    );
    assert_eq!(
        refused("  &(( template=[[t]] language=[[en]]"),
        ShorthandError::Unclosed { position: at(1, 3) }
    );
    assert_eq!(
        refused("&(( template=[[t]] language=[[en]] ))"),
        ShorthandError::ExpectedField {
            position: at(1, 36),
            found: "))".into()
        }
    );
    assert_eq!(
        refused("&(( template=[[t]] body_text=[[unterminated ))&"),
        ShorthandError::UnterminatedValue {
            field: "body_text",
            position: at(1, 30)
        }
    );
    assert_eq!(
        refused("&(( template=[[t]]\n body_text=[[x] ))&"),
        ShorthandError::UnterminatedValue {
            field: "body_text",
            position: at(2, 12)
        }
    );
    assert_eq!(
        refused("&(( template=t ))&"),
        ShorthandError::ExpectedValue {
            field: "template",
            position: at(1, 5)
        }
    );
    assert_eq!(
        refused("&(( template ))&"),
        ShorthandError::ExpectedValue {
            field: "template",
            position: at(1, 5)
        }
    );
    assert_eq!(
        refused("&(( template=[t] ))&"),
        ShorthandError::ExpectedValue {
            field: "template",
            position: at(1, 5)
        }
    );
    assert_eq!(
        refused("&(( =[[t]] ))&"),
        ShorthandError::ExpectedField {
            position: at(1, 5),
            found: "=[[t]]".into()
        }
    );
    assert_eq!(
        refused("&(( template=[[t]]]x ))&"),
        ShorthandError::UnknownField {
            field: "x".into(),
            position: at(1, 20)
        }
    );
    // Columns count characters, not bytes.
    assert_eq!(
        refused("&(( body_text=[[ñññ]] nope=[[x]] ))&"),
        ShorthandError::UnknownField {
            field: "nope".into(),
            position: at(1, 23)
        }
    );
    // Messages name the field and the place.
    let message = refused("&(( template=[[t]] language=[[en]] header_text=[[x]] header_filename=[[y]] ))&").to_string();
    assert_eq!(
        message,
        "`header_filename` at line 1, column 54 must come right after `header_document`"
    );
    let message = refused("&(( template=[[t]] language=[[en]] button_url=[[y]] ))&").to_string();
    assert_eq!(
        message,
        "`button_url` at line 1, column 36 needs a `button_index` before it"
    );
    assert_eq!(refused("&(( language=[[en]] ))&").to_string(), "missing `template`");
    assert!(
        refused("&(( template=[[t ))&")
            .to_string()
            .starts_with("unterminated `[[` for `template`")
    );
}

#[test]
fn looks_like_shorthand_tells_plain_text_apart() {
    assert!(looks_like_shorthand("  &(( template=[[t]]"));
    assert!(looks_like_shorthand("&[Hi](ns, t)"));
    assert!(!looks_like_shorthand("Hello &(( x ))&"));
    assert!(!looks_like_shorthand(""));
}

#[test]
fn to_shorthand_writes_what_reads_back() {
    let s = Shorthand {
        namespace: None,
        template: "promo".into(),
        language: "es_AR".into(),
        fallback: Some("¡Hola! [promo]".into()),
        params: TemplateParams {
            header: Some(HeaderParam::Media {
                kind: MediaKind::Document,
                url: "https://x.io/f.pdf".into(),
                filename: Some("Factura]".into()),
            }),
            body: strings(&["Ana", "  dos ", "]", "x]]"]),
            buttons: buttons(&[(3, "https://x"), (0, "OK")]),
        },
        button_kinds: vec![ButtonValueKind::Url, ButtonValueKind::Payload],
    };
    let written = s.to_shorthand().unwrap();
    assert!(written.starts_with("&(( template=[[promo]] fallback=[[¡Hola! [promo]]] language=[[es_AR]] "));
    assert_eq!(ok(&written), s);

    let cannot = |f: &dyn Fn(&mut Shorthand)| {
        let mut t = s.clone();
        f(&mut t);
        assert_eq!(t.to_shorthand(), None, "{t:?}");
    };
    cannot(&|t| t.params.body.push("a]]b".into()));
    cannot(&|t| t.params.body.push(" ".into()));
    cannot(&|t| t.template = " promo".into());
    cannot(&|t| t.template = String::new());
    cannot(&|t| t.language = "english".into());
    cannot(&|t| {
        t.button_kinds.pop();
    });
    cannot(&|t| {
        t.params.header = Some(HeaderParam::Media {
            kind: MediaKind::Image,
            url: "https://x.io/a.png".into(),
            filename: Some("a.png".into()),
        })
    });
    cannot(&|t| {
        t.params.buttons.push(ButtonParam {
            index: 12,
            value: "x".into(),
        })
    });
}

/// A small deterministic generator, so the fuzz test needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn nothing_panics_on_malformed_input() {
    let valid = format!(
        "&(( namespace=[[{NS}]] template=[[hello_world]] fallback=[[¡Olá, José! 😀]] language=[[pt_BR]] \
         header_document=[[https://exämple.com/ñ.pdf]] header_filename=[[Fäctura 😀]] body_text=[[São Paulo]] \
         body_text=[[日本語]] button_index=[[0]] button_payload=[[ÑAND]] button_index=[[1]] button_url=[[é/😀]] ))&"
    );
    ok_round_trip(&valid);
    let old = "&[Olá José, 😀 aqui](ñs, tëmplate, Bob, Joé)";
    ok_round_trip(old);

    let mut inputs: Vec<String> = Vec::new();
    // Every prefix and suffix at every byte offset that is a character boundary, and the cut points inside
    // multibyte characters made valid by the lossy decoder.
    for source in [valid.as_str(), old] {
        for i in 0..=source.len() {
            if let (Some(head), Some(tail)) = (source.get(..i), source.get(i..)) {
                inputs.push(head.to_owned());
                inputs.push(tail.to_owned());
                inputs.push(format!("{head}{tail}{head}"));
            } else {
                inputs.push(String::from_utf8_lossy(&source.as_bytes()[..i]).into_owned());
                inputs.push(String::from_utf8_lossy(&source.as_bytes()[i..]).into_owned());
            }
        }
    }
    // Random sequences of the syntax's pieces and awkward characters.
    let pieces = [
        "&((",
        "))&",
        "&[",
        "](",
        ")",
        ",",
        "[[",
        "]]",
        "[",
        "]",
        "=",
        " ",
        "\n",
        "\t",
        "\u{3000}",
        "é",
        "😀",
        "ñ",
        "template",
        "language",
        "namespace",
        "fallback",
        "body_text",
        "header_text",
        "header_image",
        "header_video",
        "header_document",
        "header_filename",
        "button_index",
        "button_payload",
        "button_url",
        "nope",
        "0",
        "9",
        "10",
        "en",
        "en_US",
        "https://a.io/x",
        "t",
        ")&",
        "((",
        "&",
        "\u{0}",
        "\u{feff}",
        "\r\n",
    ];
    let mut rng = Lcg(0x5eed);
    for _ in 0..20_000 {
        let len = rng.next() % 24;
        let mut s = String::new();
        for _ in 0..len {
            s.push_str(pieces[rng.next() % pieces.len()]);
        }
        inputs.push(s);
    }
    // Mostly valid messages with one piece changed.
    for _ in 0..5_000 {
        let mut s = valid.clone();
        let i = rng.next() % (s.len() + 1);
        if s.is_char_boundary(i) {
            s.insert_str(i, pieces[rng.next() % pieces.len()]);
        }
        inputs.push(s);
    }
    inputs.push("&((".repeat(1000));
    inputs.push(format!(
        "&(( {} template=[[t]] language=[[en]] ))&",
        "body_text=[[x]] ".repeat(10_000)
    ));

    let mut accepted = 0;
    for input in &inputs {
        if let Ok(s) = parse(input) {
            accepted += 1;
            // Whatever is accepted can be written back, and reads back the same.
            if let Some(written) = s.to_shorthand() {
                assert_eq!(parse(&written).as_ref(), Ok(&s), "{input:?} → {written:?}");
            }
        } else if let Err(e) = parse(input) {
            // Every error has a message.
            assert!(!e.to_string().is_empty());
        }
    }
    assert!(accepted > 100, "only {accepted} accepted");
}

#[test]
fn position_of_any_offset() {
    let s = "ab\nçd😀\n";
    assert_eq!(Position::of(s, 0), at(1, 1));
    assert_eq!(Position::of(s, 3), at(2, 1));
    assert_eq!(Position::of(s, 5), at(2, 2));
    // Inside a multibyte character: the character's end.
    assert_eq!(Position::of(s, 4), at(2, 2));
    assert_eq!(Position::of(s, 7), at(2, 4));
    assert_eq!(Position::of(s, 1000), at(3, 1));
    assert_eq!(at(2, 7).to_string(), "line 2, column 7");
}
