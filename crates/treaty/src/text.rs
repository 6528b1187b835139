//! Free text in a payload: the rule that a person reads exactly what was signed.
//!
//! A name, a purpose, a third party or a media type is shown to clerks, auditors and
//! consultations in pages, CSV and print. A control character (NUL, TAB, a line break)
//! or one that reorders text (a right-to-left override, an isolate, a mark, the BOM)
//! would let two people read one record differently, so no payload string may hold one
//! ([`hidden_text`], refused by the rules as [`crate::Violation::HiddenText`]), and the
//! console writes any it meets as its code ([`is_hidden`], one predicate for both).
//!
//! Key decision: the payload is walked through serde, not field by field, so a string
//! field added to the catalogue later is covered without a change here, and the field
//! is named by its path as the JSON form spells it (`Request.purposes[0]`).

use crate::payload::Payload;
use serde::Serialize;
use serde::ser;
use std::fmt;

/// Whether `c` is hidden from a reader or reorders what follows: a control character,
/// or a bidirectional mark, embedding, override or isolate, or the BOM.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{feff}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// The first string of `payload` holding a hidden character: its field (`Request.
/// purposes[0]`) and the character.
pub fn hidden_text(payload: &Payload) -> Option<(String, char)> {
    hidden_texts(payload).into_iter().next()
}

/// Every string of `payload` holding a hidden character, in the payload's order: its
/// field and the first such character in it.
pub fn hidden_texts(payload: &Payload) -> Vec<(String, char)> {
    let mut w = Walker::default();
    // An error (none of the catalogue's types raises one) ends the walk early.
    let _ = payload.serialize(&mut w);
    w.found
}

/// Walks a payload's strings. The path to the string being walked is kept as parts that
/// borrow the catalogue's own names, and spelled out only for a string that holds a
/// hidden character: the rules walk every payload appended or verified, and nearly all
/// are plain (allocating a path per field was most of the walk's cost).
#[derive(Default)]
struct Walker {
    path: Vec<Part>,
    found: Vec<(String, char)>,
}

/// One step of the path to a string.
#[derive(Clone, Copy)]
enum Part {
    /// A struct's field or an enum's variant, by name.
    Name(&'static str),
    /// An element of a list, a tuple or a map, by number.
    Index(usize),
}

impl Walker {
    fn text(&mut self, s: &str) {
        // Printable ASCII holds no hidden character: most strings are answered here.
        if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return;
        }
        if let Some(c) = s.chars().find(|c| is_hidden(*c)) {
            self.found.push((self.spelled(), c));
        }
    }
    /// The path as the JSON form spells it: `Request.purposes[0]`.
    fn spelled(&self) -> String {
        let mut out = String::new();
        for (i, part) in self.path.iter().enumerate() {
            match part {
                Part::Name(n) if i == 0 => out.push_str(n),
                Part::Name(n) => {
                    out.push('.');
                    out.push_str(n);
                }
                Part::Index(k) => {
                    out.push('[');
                    out.push_str(&k.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
    fn enter(&mut self, part: Part) {
        self.path.push(part);
    }
    fn leave(&mut self) {
        self.path.pop();
    }
}

/// The walker's error: only a payload type's own `Serialize` could raise one (none of
/// the catalogue's does); the walk then stops with what it found so far.
#[derive(Debug)]
struct Never;

impl fmt::Display for Never {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a payload value could not be walked")
    }
}

impl std::error::Error for Never {}

impl ser::Error for Never {
    fn custom<T: fmt::Display>(_: T) -> Never {
        Never
    }
}

/// A sequence, tuple or map being walked: its elements are numbered.
struct Items<'a> {
    w: &'a mut Walker,
    next: usize,
    /// Whether the compound entered a variant name to leave at its end.
    variant: bool,
}

impl Items<'_> {
    fn element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Never> {
        self.w.enter(Part::Index(self.next));
        self.next += 1;
        v.serialize(&mut *self.w)?;
        self.w.leave();
        Ok(())
    }
    fn done(self) -> Result<(), Never> {
        if self.variant {
            self.w.leave();
        }
        Ok(())
    }
}

macro_rules! items {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Items<'_> {
            type Ok = ();
            type Error = Never;
            fn $method<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Never> {
                self.element(v)
            }
            fn end(self) -> Result<(), Never> {
                self.done()
            }
        }
    )*};
}
items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Items<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> Result<(), Never> {
        k.serialize(&mut *self.w)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Never> {
        self.element(v)
    }
    fn end(self) -> Result<(), Never> {
        self.done()
    }
}

/// A struct being walked: its fields are named.
struct Fields<'a> {
    w: &'a mut Walker,
    variant: bool,
}

impl Fields<'_> {
    fn field<T: ?Sized + Serialize>(&mut self, name: &'static str, v: &T) -> Result<(), Never> {
        self.w.enter(Part::Name(name));
        v.serialize(&mut *self.w)?;
        self.w.leave();
        Ok(())
    }
    fn done(self) -> Result<(), Never> {
        if self.variant {
            self.w.leave();
        }
        Ok(())
    }
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        name: &'static str,
        v: &T,
    ) -> Result<(), Never> {
        self.field(name, v)
    }
    fn end(self) -> Result<(), Never> {
        self.done()
    }
}

impl ser::SerializeStructVariant for Fields<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        name: &'static str,
        v: &T,
    ) -> Result<(), Never> {
        self.field(name, v)
    }
    fn end(self) -> Result<(), Never> {
        self.done()
    }
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = Never;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Items<'a>;
    type SerializeMap = Items<'a>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = Fields<'a>;

    /// Digests and keys as bytes, not hex: they hold no text to check.
    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bool(self, _: bool) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_char(self, c: char) -> Result<(), Never> {
        self.text(c.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, s: &str) -> Result<(), Never> {
        self.text(s);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), Never> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Never> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Never> {
        self.enter(Part::Name(variant));
        v.serialize(&mut *self)?;
        self.leave();
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Items<'a>, Never> {
        Ok(Items {
            w: self,
            next: 0,
            variant: false,
        })
    }
    fn serialize_tuple(self, _: usize) -> Result<Items<'a>, Never> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Items<'a>, Never> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Items<'a>, Never> {
        self.enter(Part::Name(variant));
        Ok(Items {
            w: self,
            next: 0,
            variant: true,
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Items<'a>, Never> {
        self.serialize_seq(None)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a>, Never> {
        Ok(Fields {
            w: self,
            variant: false,
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Fields<'a>, Never> {
        self.enter(Part::Name(variant));
        Ok(Fields {
            w: self,
            variant: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixture;

    #[test]
    fn every_payload_of_the_fixture_is_plain_text() {
        let f = fixture::ledger().unwrap();
        for r in &f.records {
            let p = Payload::from_bytes(&r.record.event.body.payload).unwrap();
            assert_eq!(hidden_text(&p), None, "{}", p.name());
        }
    }

    #[test]
    fn the_hidden_characters_are_the_invisible_and_the_reordering_ones() {
        for c in [
            '\0', '\t', '\n', '\r', '\u{7f}', '\u{85}', '\u{200e}', '\u{200f}',
        ] {
            assert!(is_hidden(c), "{c:?}");
        }
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{061c}', '\u{feff}',
        ] {
            assert!(is_hidden(c), "{c:?}");
        }
        for c in ['a', 'Ə', 'ң', 'ş', ' ', '-', '«', '\u{200b}'] {
            assert!(!is_hidden(c), "{c:?}");
        }
    }
}
