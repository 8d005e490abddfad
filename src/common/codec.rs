//! Values as bytes, for state stores: postcard's compact, deterministic encoding of `Value`s
//! (equal values give equal bytes, so encoded keys can be looked up).

use super::Value;
use serde::{Serialize, de::DeserializeOwned};

#[derive(Debug, thiserror::Error)]
#[error("cannot decode stored state ({0}): the state directory may be from another version")]
pub struct CodecError(String);

/// Encodes anything serializable made of `Value`s (a row, an accumulator record).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Serializing plain enums and vectors into a Vec cannot fail.
    postcard::to_stdvec(value).unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    postcard::from_bytes(bytes).map_err(|e| CodecError(e.to_string()))
}

/// The bytes of a row of key values.
pub fn encode_values(values: &[Value]) -> Vec<u8> {
    encode(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_keep_their_types() {
        let row = vec![
            Value::Int(1),
            Value::Bigint(1),
            Value::Decimal(-12345, 2),
            Value::String("é".into()),
            Value::Map(vec![(Value::String("k".into()), Value::Null)]),
            Value::Struct(vec![("A".into(), Value::Double(1.5))]),
        ];
        let bytes = encode_values(&row);
        let back: Vec<Value> = decode(&bytes).expect("decode");
        assert_eq!(back, row);
        assert_ne!(
            encode_values(&[Value::Int(1)]),
            encode_values(&[Value::Bigint(1)])
        );
        assert!(decode::<Vec<Value>>(&[0xff, 0xff]).is_err());
    }
}
