//! Property tests: every reference the grammar allows survives
//! display → parse unchanged, and familiar forms normalise the way the docker
//! CLI does.

use dockhand_oci::{Digest, Platform, Reference};
use dockhand_spec::ExtensionId;
use proptest::prelude::*;

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,8}((\\.|_|__|-{1,2})[a-z0-9]{1,8}){0,2}"
}

fn registry() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("localhost".to_owned())),
        "[a-z]{1,8}\\.[a-z]{2,4}".prop_map(Some),
        ("[a-z]{1,8}\\.[a-z]{2,4}", 1u16..).prop_map(|(h, p)| Some(format!("{h}:{p}"))),
        (1u16..).prop_map(|p| Some(format!("127.0.0.1:{p}"))),
    ]
}

fn tag() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}".prop_map(Some)
    ]
}

proptest! {
    #[test]
    fn display_then_parse_is_identity(
        reg in registry(),
        path in prop::collection::vec(component(), 1..4),
        tag in tag(),
        digest_seed in prop::option::of(any::<u64>()),
    ) {
        // A first component with a dot names a registry (docker's rule), which
        // then has to be a host name: tested separately below.
        prop_assume!(reg.is_some() || path.len() == 1 || !path[0].contains('.'));
        let mut s = String::new();
        if let Some(r) = &reg {
            s.push_str(r);
            s.push('/');
        }
        s.push_str(&path.join("/"));
        if let Some(t) = &tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(seed) = digest_seed {
            s.push('@');
            s.push_str(&Digest::sha256_of(&seed.to_le_bytes()).to_string());
        }
        let parsed = Reference::parse(&s).expect("generated references parse");
        let again = Reference::parse(&parsed.to_string()).expect("display parses");
        prop_assert_eq!(&parsed, &again);
        let familiar = Reference::parse(&parsed.familiar()).expect("familiar parses");
        prop_assert_eq!(&parsed, &familiar);
        match &reg {
            None => prop_assert_eq!(parsed.registry(), "docker.io"),
            Some(r) => prop_assert_eq!(parsed.registry(), r.as_str()),
        }
        if reg.is_none() && path.len() == 1 {
            prop_assert_eq!(parsed.repository(), format!("library/{}", path[0]));
        }
        let id = parsed.extension_id();
        prop_assert_eq!(ExtensionId::parse(id.as_str()).expect("id parses"), id);
    }

    #[test]
    fn a_dotted_first_component_is_a_registry(host in "[a-z]{1,8}\\.[a-z]{2,4}", repo in component()) {
        let r = Reference::parse(&format!("{host}/{repo}")).expect("parses");
        prop_assert_eq!(r.registry(), host.as_str());
        prop_assert_eq!(r.repository(), repo.as_str());
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,80}") {
        let _ = Reference::parse(&s);
        let _ = s.parse::<Platform>();
        let _ = Digest::parse(&s);
    }

    #[test]
    fn digests_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let d = Digest::sha256_of(&bytes);
        prop_assert_eq!(Digest::parse(&d.to_string()).expect("parses"), d);
    }
}
