//! JSON has no NaN: per-period vectors with undefined periods travel as `null` and come back
//! as NaN (`#[serde(with = "nan_serde")]`).

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(|v| v.is_finite().then_some(*v)))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
    let values: Vec<Option<f64>> = Deserialize::deserialize(deserializer)?;
    Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// One number: NaN travels as `null` (`#[serde(with = "nan_serde::one")]`).
pub mod one {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        match value.is_finite() {
            true => serializer.serialize_some(value),
            false => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        let value: Option<f64> = Deserialize::deserialize(deserializer)?;
        Ok(value.unwrap_or(f64::NAN))
    }
}
