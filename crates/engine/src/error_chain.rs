//! An error as one line with its causes.

/// `e`'s message, then each cause's that the text so far does not already
/// contain, joined by `: ` (library errors often repeat their source's
/// message; a transport's top level may say only "error sending request" or
/// "client error (Connect)").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Layer {
        text: &'static str,
        #[source]
        source: Option<Box<Layer>>,
    }

    fn layer(text: &'static str, source: Option<Layer>) -> Layer {
        Layer {
            text,
            source: source.map(Box::new),
        }
    }

    #[test]
    fn causes_are_appended_once() {
        let e = layer(
            "client error (Connect)",
            Some(layer(
                "invalid peer certificate: UnknownIssuer",
                Some(layer("UnknownIssuer", None)),
            )),
        );
        assert_eq!(
            error_chain(&e),
            "client error (Connect): invalid peer certificate: UnknownIssuer"
        );
        assert_eq!(error_chain(&layer("alone", None)), "alone");
    }
}
