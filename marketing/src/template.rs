//! Message templates: text with `{{variable}}` slots filled per user
//! (`first_name`, `title`, `episode`, …) and a deep link made the same way.
//!
//! A template is parsed once; rendering fails on the first variable the
//! user has no value for, so a campaign's preview — which renders for every
//! recipient — reports a missing variable before anything is sent. A `{{`
//! without its `}}`, or a slot name outside `[a-z0-9_]`, is refused at
//! parse (a literal `{{` cannot be written).

use std::collections::BTreeSet;

/// A template refused or a variable missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The text is not a template.
    #[error("bad template at byte {at}: {why}")]
    Syntax {
        /// Byte offset.
        at: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A variable the user has no value for.
    #[error("no value for `{{{{{0}}}}}`")]
    Missing(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut at = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let inner = &rest[open + 2..];
            let close = inner.find("}}").ok_or(TemplateError::Syntax {
                at: at + open,
                why: "`{{` without `}}`",
            })?;
            let name = inner[..close].trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(TemplateError::Syntax {
                    at: at + open,
                    why: "a variable is named with a-z, 0-9 and _",
                });
            }
            parts.push(Part::Var(name.to_owned()));
            let consumed = open + 2 + close + 2;
            at += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// The variables it uses.
    pub fn variables(&self) -> BTreeSet<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var(v) => Some(v.as_str()),
                Part::Text(_) => None,
            })
            .collect()
    }

    /// The text for a user whose values `value` gives.
    pub fn render<'a>(
        &self,
        value: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    out.push_str(value(v).ok_or_else(|| TemplateError::Missing(v.clone()))?)
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_slots_and_refuses_what_is_missing() {
        let t =
            Template::parse("Hi {{first_name}}, {{ title }} S{{season}} is out").expect("parse");
        assert_eq!(
            t.variables().into_iter().collect::<Vec<_>>(),
            ["first_name", "season", "title"]
        );
        let vals = |k: &str| match k {
            "first_name" => Some("Ada"),
            "title" => Some("Dark"),
            "season" => Some("2"),
            _ => None,
        };
        assert_eq!(t.render(vals).expect("render"), "Hi Ada, Dark S2 is out");
        let no_title = |k: &str| if k == "title" { None } else { vals(k) };
        assert_eq!(
            t.render(no_title),
            Err(TemplateError::Missing("title".into()))
        );
        assert_eq!(
            Template::parse("plain")
                .expect("parse")
                .render(|_| None)
                .as_deref(),
            Ok("plain")
        );
    }

    #[test]
    fn refuses_broken_slots() {
        assert!(matches!(
            Template::parse("a {{name"),
            Err(TemplateError::Syntax { at: 2, .. })
        ));
        assert!(matches!(
            Template::parse("{{}}"),
            Err(TemplateError::Syntax { at: 0, .. })
        ));
        assert!(matches!(
            Template::parse("x{{First}}"),
            Err(TemplateError::Syntax { at: 1, .. })
        ));
    }
}
