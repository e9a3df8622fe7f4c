//! The `image` directive (SCENARIO.md "Image sections (images)"):
//! `image "NAME" base N section "NAME" FLAGS ["DATA"] [size N] …`.

use super::Parser;
use crate::ast::{ImageSection, StmtKind};
use crate::error::ParseError;

/// The most sections an `image` line may declare (the PE format allows 96 in a loader-mapped
/// image).
pub(crate) const MAX_IMAGE_SECTIONS: usize = 96;

impl Parser<'_> {
    /// The rest of an `image` line, after the directive's name.
    pub(super) fn image_directive(&mut self) -> Result<StmtKind, ParseError> {
        let name = self.string()?;
        if !self.keyword("base") {
            return self.err(self.col(), "expected `base` and the image base");
        }
        let base = self.expr()?;
        let mut sections = Vec::new();
        while self.keyword("section") {
            let sname = self.string()?;
            let fc = self.col();
            let flags = self.ident()?;
            let mut seen = String::new();
            for c in flags.chars() {
                if !"rwxs".contains(c) || seen.contains(c) {
                    return self.err(
                        fc,
                        "section flags are some of r, w, x, s, each at most once",
                    );
                }
                seen.push(c);
            }
            let data =
                if self.at_end() || self.keyword_ahead("size") || self.keyword_ahead("section") {
                    None
                } else {
                    Some(self.expr()?)
                };
            let size = if self.keyword("size") {
                Some(self.expr()?)
            } else {
                None
            };
            if data.is_none() && size.is_none() {
                return self.err(self.col(), "a section needs its data or `size N`");
            }
            sections.push(ImageSection {
                name: sname,
                flags,
                data,
                size,
            });
            if sections.len() > MAX_IMAGE_SECTIONS {
                return self.err(fc, format!("at most {MAX_IMAGE_SECTIONS} sections"));
            }
        }
        if sections.is_empty() {
            return self.err(self.col(), "expected `section \"NAME\" FLAGS …`");
        }
        Ok(StmtKind::Image {
            name,
            base,
            sections,
        })
    }

    /// Whether the next token is the identifier `k` (not consumed).
    fn keyword_ahead(&self, k: &str) -> bool {
        matches!(self.peek(), Some(crate::lexer::Tok::Ident(s)) if s == k)
    }
}
