//! Personal data helpers: the GB 11643 resident ID number check, and masking for display
//! (个人信息保护法: lists show masked names, ID numbers and phones).

use chrono::NaiveDate;

/// Why an ID number is not a valid resident ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters.
    #[error("身份证号码应为18位，实际为{0}位")]
    Length(usize),
    /// A 15-digit first-generation number.
    #[error("15位旧身份证号码已停止使用，请填写18位号码")]
    FirstGeneration,
    /// A character other than a digit (or a final X).
    #[error("身份证号码只能是数字，最后一位可以是X")]
    Characters,
    /// Positions 7 to 14 are not a real birth date.
    #[error("身份证号码中的出生日期 {0} 不存在")]
    BirthDate(String),
    /// The GB 11643 check digit does not match.
    #[error("身份证号码校验位不符（应为{expected}），请核对是否抄错")]
    CheckDigit {
        /// The check character the first 17 digits call for.
        expected: char,
    },
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Checks an 18-digit resident ID number (GB 11643-1999): length, characters, birth date and
/// check digit. Returns the birth date.
pub fn check_resident_id(number: &str) -> Result<NaiveDate, IdNumberError> {
    let number = number.trim();
    let chars: Vec<char> = number.chars().collect();
    if chars.len() == 15 && chars.iter().all(char::is_ascii_digit) {
        return Err(IdNumberError::FirstGeneration);
    }
    if chars.len() != 18 {
        return Err(IdNumberError::Length(chars.len()));
    }
    let mut sum = 0;
    for (c, w) in chars.iter().take(17).zip(WEIGHTS) {
        sum += c.to_digit(10).ok_or(IdNumberError::Characters)? * w;
    }
    let last = chars[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(IdNumberError::Characters);
    }
    let birth: String = chars[6..14].iter().collect();
    let date = NaiveDate::parse_from_str(&birth, "%Y%m%d")
        .ok()
        .filter(|d| d.format("%Y").to_string().as_str() >= "1900")
        .ok_or_else(|| IdNumberError::BirthDate(birth.clone()))?;
    let expected = CHECK[(sum % 11) as usize];
    if last != expected {
        return Err(IdNumberError::CheckDigit { expected });
    }
    Ok(date)
}

/// Masks a name for lists: 张* for two characters, 张*明 for three, 欧**明 for four.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Masks an ID number or phone, keeping the first three and last four characters.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.trim().chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_pass_and_give_the_birth_date() {
        // The GB 11643 standard's own example.
        assert_eq!(
            check_resident_id("11010519491231002X").unwrap(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(check_resident_id("11010519491231002x").is_ok());
        assert!(check_resident_id("440524188001010014").is_err(), "1880 is before 1900");
    }

    #[test]
    fn each_kind_of_error_is_named() {
        assert_eq!(check_resident_id("1234"), Err(IdNumberError::Length(4)));
        assert_eq!(check_resident_id("110105491231002"), Err(IdNumberError::FirstGeneration));
        assert_eq!(check_resident_id("11010519491231002A"), Err(IdNumberError::Characters));
        assert!(matches!(
            check_resident_id("110105194913310021"),
            Err(IdNumberError::BirthDate(_))
        ));
        assert_eq!(
            check_resident_id("110105194912310021"),
            Err(IdNumberError::CheckDigit { expected: 'X' })
        );
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("李小明"), "李*明");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_number("13812345678"), "138****5678");
        assert_eq!(mask_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_number("12345"), "*****");
    }
}
