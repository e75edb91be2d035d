//! Closed vocabularies with a stable code, a stable Chinese label and room for the unknown.
//!
//! Every enumeration the case model stores (信访形式, 信访来源, 问题类别 ...) is declared with
//! [`coded_enum!`]. The snake_case code is what documents, the wire and JSON carry; the Chinese
//! label is what people read and what reports are keyed by. A code this version does not know
//! (written by a newer version of the app) hydrates as `Unknown(code)` and is written back
//! unchanged, so an older office never destroys a newer office's value.

/// Declares a coded enumeration.
///
/// Each variant is `Name = ("code", "标签", "别名"...)`: the code, the label, then any number of
/// extra spellings that [`parse`](#method.parse) accepts (common header and value variants in
/// imported ledgers). The macro adds an `Unknown(String)` variant, `KNOWN` in declaration order
/// (the order reports list them in), `code`, `label`, `from_code`, `parse`, serde as the code,
/// and `Display` as the label.
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = ($code:literal, $label:literal $(, $alias:literal)* $(,)?)
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
            /// A value written by a newer version of the app, kept as its code.
            Unknown(String),
        }

        impl $name {
            /// Every value this version knows, in the order reports list them.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case code stored in documents and sent on the wire.
            pub fn code(&self) -> &str {
                match self {
                    $(Self::$variant => $code,)+
                    Self::Unknown(code) => code,
                }
            }

            /// The stable Chinese label people read and reports are keyed by.
            pub fn label(&self) -> &str {
                match self {
                    $(Self::$variant => $label,)+
                    Self::Unknown(code) => code,
                }
            }

            /// The value stored under `code`; an unknown code is kept as `Unknown`.
            pub fn from_code(code: &str) -> Self {
                match code {
                    $($code => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// Reads a known value from its code, its label or an accepted variant spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text.trim() {
                    $($code | $label $(| $alias)* => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// Whether this version knows the value.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// The labels of every known value joined for an error message (`来信、来访`).
            pub fn known_labels() -> String {
                Self::KNOWN.iter().map(|v| v.label()).collect::<Vec<_>>().join("、")
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        // A union of the known codes that still admits any string: a newer version's code
        // reaches the UI as it is (`Unknown`), and the UI shows it as the code.
        #[cfg(feature = "ts")]
        impl ::ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;

            fn docs() -> Option<String> {
                let known = [$(concat!("`", $code, "` ", $label)),+].join("、");
                Some(format!("/**\n * {}: {known}; or a newer version's code.\n */\n", stringify!($name)))
            }

            fn name(_: &::ts_rs::Config) -> String {
                stringify!($name).to_owned()
            }

            fn inline(_: &::ts_rs::Config) -> String {
                let known = [$(concat!("\"", $code, "\"")),+].join(" | ");
                format!("{known} | (string & {{}})")
            }

            fn decl(cfg: &::ts_rs::Config) -> String {
                format!("type {} = {};", stringify!($name), <Self as ::ts_rs::TS>::inline(cfg))
            }

            fn decl_concrete(cfg: &::ts_rs::Config) -> String {
                <Self as ::ts_rs::TS>::decl(cfg)
            }

            fn output_path() -> Option<::std::path::PathBuf> {
                Some(::std::path::PathBuf::from(concat!(stringify!($name), ".ts")))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let code = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_code(&code))
            }
        }
    };
}

#[cfg(test)]
#[allow(unreachable_pub)]
mod tests {
    coded_enum! {
        /// A test vocabulary.
        pub enum Fruit {
            /// 苹果: apple
            Apple = ("apple", "苹果", "蘋果"),
            /// 梨: pear
            Pear = ("pear", "梨"),
        }
    }

    #[test]
    fn code_label_and_aliases_parse_to_the_same_value() {
        assert_eq!(Fruit::parse("apple"), Some(Fruit::Apple));
        assert_eq!(Fruit::parse(" 苹果 "), Some(Fruit::Apple));
        assert_eq!(Fruit::parse("蘋果"), Some(Fruit::Apple));
        assert_eq!(Fruit::parse("banana"), None);
        assert_eq!(Fruit::Pear.label(), "梨");
        assert_eq!(Fruit::known_labels(), "苹果、梨");
    }

    #[test]
    fn unknown_codes_survive_serde() {
        let v: Fruit = serde_json::from_str("\"durian\"").unwrap();
        assert_eq!(v, Fruit::Unknown("durian".into()));
        assert!(!v.is_known());
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"durian\"");
        assert_eq!(serde_json::to_string(&Fruit::Apple).unwrap(), "\"apple\"");
    }
}
