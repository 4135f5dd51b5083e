//! Prices of delivered template messages, by category and the recipient's country.
//!
//! Since July 2025 the Cloud API charges per delivered template message at a rate
//! set by category and the recipient's country calling code. The table lives in
//! config (a shipped default here), prices are integers in micros (millionths of the
//! currency unit) so sums are exact, and the country is found by a longest-prefix
//! match of the user id against the ITU list of calling codes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Rates of one country (or the default), in micros per delivered message.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Rates {
    pub marketing: i64,
    pub utility: i64,
    pub authentication: i64,
    pub authentication_international: i64,
}

/// The price table: a currency, default rates, and rates per calling code.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct PriceTable {
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    pub default: Rates,
    /// Calling code (e.g. `"44"`) → rates.
    #[serde(default)]
    pub countries: BTreeMap<String, Rates>,
}

/// Rates in USD micros: `$0.025` is `25_000`.
const fn usd(
    marketing: i64,
    utility: i64,
    authentication: i64,
    authentication_international: i64,
) -> Rates {
    Rates {
        marketing,
        utility,
        authentication,
        authentication_international,
    }
}

impl Default for PriceTable {
    /// A plausible USD table (close to Meta's published 2025 rates) for a dozen
    /// large markets; operators replace it in config.
    fn default() -> Self {
        let countries = [
            ("1", usd(25_000, 4_000, 13_500, 13_500)),
            ("33", usd(143_200, 30_000, 69_100, 69_100)),
            ("34", usd(61_500, 20_000, 34_200, 34_200)),
            ("39", usd(69_100, 30_000, 37_800, 37_800)),
            ("44", usd(52_900, 22_000, 35_800, 35_800)),
            ("49", usd(136_500, 55_000, 76_800, 76_800)),
            ("52", usd(30_500, 8_500, 23_900, 23_900)),
            ("55", usd(62_500, 8_000, 31_500, 31_500)),
            ("62", usd(41_100, 25_000, 30_000, 136_000)),
            ("91", usd(10_700, 1_400, 1_400, 28_000)),
            ("234", usd(51_600, 6_700, 6_700, 75_000)),
            ("971", usd(38_400, 15_700, 17_800, 17_800)),
        ];
        PriceTable {
            currency: "USD".into(),
            default: usd(60_400, 7_700, 7_700, 7_700),
            countries: countries
                .into_iter()
                .map(|(cc, r)| (cc.to_owned(), r))
                .collect(),
        }
    }
}

impl PriceTable {
    /// The price in micros of one delivered message of `category` (`marketing`,
    /// `utility`, `authentication`, `authentication-international`, any case) to a
    /// recipient with `calling_code`. `service` and unknown categories are free.
    pub fn price(&self, category: &str, calling_code: &str) -> i64 {
        let r = self.countries.get(calling_code).unwrap_or(&self.default);
        match category.to_ascii_lowercase().replace('_', "-").as_str() {
            "marketing" => r.marketing,
            "utility" => r.utility,
            "authentication" => r.authentication,
            "authentication-international" => r.authentication_international,
            _ => 0,
        }
    }

    /// Checks a table from config: a 3-letter uppercase currency, calling codes of
    /// 1-3 digits, and no negative rate.
    pub fn validate(&self) -> Result<(), String> {
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "currency {:?} is not a 3-letter uppercase ISO 4217 code, e.g. \"USD\"",
                self.currency
            ));
        }
        let check = |name: &str, r: &Rates| -> Result<(), String> {
            let all = [
                ("marketing", r.marketing),
                ("utility", r.utility),
                ("authentication", r.authentication),
                (
                    "authentication_international",
                    r.authentication_international,
                ),
            ];
            for (field, v) in all {
                if v < 0 {
                    return Err(format!("{name}.{field} is {v}; prices cannot be negative"));
                }
            }
            Ok(())
        };
        check("default", &self.default)?;
        for (cc, r) in &self.countries {
            let ok = (1..=3).contains(&cc.len())
                && cc.bytes().all(|b| b.is_ascii_digit())
                && !cc.starts_with('0');
            if !ok {
                return Err(format!(
                    "countries: {cc:?} is not a calling code (1 to 3 digits, e.g. \"44\")"
                ));
            }
            check(&format!("countries.{cc}"), r)?;
        }
        Ok(())
    }
}

/// Every assigned ITU-T E.164 country calling code, including the global services
/// (800, 808, 870, 878, 881-883, 888, 979, 991). NANP (`1`) is one code: `1242` (the
/// Bahamas) is priced as `1`, as Meta does.
const CALLING_CODES: &[&str] = &[
    "1", "7", //
    "20", "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226",
    "227", "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239",
    "240", "241", "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252",
    "253", "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266",
    "267", "268", "269", "27", "290", "291", "297", "298", "299", //
    "30", "31", "32", "33", "34", "350", "351", "352", "353", "354", "355", "356", "357", "358",
    "359", "36", "370", "371", "372", "373", "374", "375", "376", "377", "378", "379", "380",
    "381", "382", "383", "385", "386", "387", "389", "39", //
    "40", "41", "420", "421", "423", "43", "44", "45", "46", "47", "48", "49", //
    "500", "501", "502", "503", "504", "505", "506", "507", "508", "509", "51", "52", "53", "54",
    "55", "56", "57", "58", "590", "591", "592", "593", "594", "595", "596", "597", "598", "599",
    //
    "60", "61", "62", "63", "64", "65", "66", "670", "672", "673", "674", "675", "676", "677",
    "678", "679", "680", "681", "682", "683", "685", "686", "687", "688", "689", "690", "691",
    "692", //
    "800", "808", "81", "82", "84", "850", "852", "853", "855", "856", "86", "870", "878", "880",
    "881", "882", "883", "886", "888", //
    "90", "91", "92", "93", "94", "95", "960", "961", "962", "963", "964", "965", "966", "967",
    "968", "970", "971", "972", "973", "974", "975", "976", "977", "979", "98", "991", "992",
    "993", "994", "995", "996", "998",
];

/// The country calling code of a user id (E.164 digits) by longest-prefix match;
/// `""` if none matches.
pub fn calling_code(user_id: &str) -> &'static str {
    for len in (1..=3).rev() {
        if let Some(prefix) = user_id.get(..len)
            && let Some(cc) = CALLING_CODES.iter().find(|c| **c == prefix)
        {
            return cc;
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calling_codes() {
        let cases = [
            ("16505551234", "1"),
            ("12425551234", "1"),
            ("447911123456", "44"),
            ("4915112345678", "49"),
            ("971501234567", "971"),
            ("79161234567", "7"),
            ("33612345678", "33"),
            ("3536123456", "353"),
            ("2348031234567", "234"),
            ("27821234567", "27"),
            ("8613812345678", "86"),
            ("85291234567", "852"),
            ("6281234567890", "62"),
            ("5511912345678", "55"),
            ("59412345678", "594"),
            ("38312345678", "383"),
            ("42212345678", ""),
            ("", ""),
        ];
        for (id, want) in cases {
            assert_eq!(calling_code(id), want, "{id}");
        }
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CALLING_CODES {
            assert!(seen.insert(*c), "{c} twice");
            assert!(
                (1..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()),
                "{c}"
            );
        }
        // No code is a prefix of another (E.164 calling codes are a prefix code).
        for a in CALLING_CODES {
            for b in CALLING_CODES {
                assert!(a == b || !b.starts_with(a), "{a} is a prefix of {b}");
            }
        }
    }

    #[test]
    fn prices() {
        let t = PriceTable::default();
        t.validate().unwrap();
        assert_eq!(t.price("marketing", "1"), 25_000);
        assert_eq!(t.price("MARKETING", "49"), 136_500);
        assert_eq!(t.price("utility", "44"), 22_000);
        assert_eq!(t.price("authentication", "91"), 1_400);
        assert_eq!(t.price("authentication-international", "91"), 28_000);
        assert_eq!(t.price("authentication_international", "62"), 136_000);
        assert_eq!(t.price("marketing", "263"), 60_400, "default rates");
        assert_eq!(t.price("service", "1"), 0);
        assert_eq!(t.price("bogus", "1"), 0);
        for cc in [
            "1", "44", "49", "33", "34", "39", "55", "91", "52", "62", "234", "971",
        ] {
            assert!(t.countries.contains_key(cc), "{cc}");
        }
    }

    #[test]
    fn validation() {
        let t = PriceTable {
            currency: "usd".into(),
            ..PriceTable::default()
        };
        assert!(t.validate().unwrap_err().contains("currency"));
        let mut t = PriceTable::default();
        t.default.utility = -1;
        assert!(t.validate().unwrap_err().contains("default.utility"));
        let mut t = PriceTable::default();
        t.countries.insert("+44".into(), t.default.clone());
        assert!(t.validate().unwrap_err().contains("\"+44\""));
    }

    #[test]
    fn serde_round_trip() {
        let t = PriceTable::default();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<PriceTable>(&json).unwrap(), t);
        let minimal: PriceTable = serde_json::from_str(
            r#"{"currency":"EUR","default":{"marketing":1,"utility":2,"authentication":3,"authentication_international":4}}"#,
        )
        .unwrap();
        assert!(minimal.countries.is_empty());
        assert_eq!(minimal.price("authentication-international", "49"), 4);
    }
}
