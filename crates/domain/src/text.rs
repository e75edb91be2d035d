//! Text as a terminal shows it: how many columns a string takes, so the CLI's lists and the text
//! report line up with Chinese in them.

/// Columns `text` takes on a terminal: CJK characters and full-width forms take two, everything
/// else one (「—」 and 「·」 are drawn one column wide by the terminals offices use).
pub fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let wide = matches!(
        u32::from(c),
        0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD
    );
    if wide { 2 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_and_full_width_take_two_columns_and_the_rest_one() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("案件编号"), 8);
        assert_eq!(display_width("洞口-2024-A-0001"), 16);
        assert_eq!(display_width("（本机时间）"), 12);
        assert_eq!(display_width("罗溪瑶族乡"), 10);
        assert_eq!(display_width("—"), 1);
        assert_eq!(display_width("+13.3%"), 6);
    }
}
