//! What machine an executable file is for: a small parser of the headers of
//! ELF (`e_machine`), Mach-O (`cputype`, every slice of a fat file) and PE
//! (the COFF `Machine`), reading only the first bytes of a file. Anything
//! else (scripts, text, archives, Java classes) is not an executable here.
//!
//! Architectures are named as image platforms name them (`amd64`, `arm64`,
//! `arm`, `386`, `ppc64le`, `s390x`, `riscv64`…), so a file can be checked
//! against the platform it goes into.

use std::fmt;

use crate::platform::Platform;

/// How many leading bytes [`Executable::parse`] needs at most to decide.
pub const HEAD_BYTES: usize = 64 * 1024;

/// An executable file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ELF: Linux and the other Unix systems.
    Elf,
    /// Mach-O: macOS.
    MachO,
    /// PE: Windows.
    Pe,
}

impl Format {
    /// `ELF`, `Mach-O` or `PE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Elf => "ELF",
            Format::MachO => "Mach-O",
            Format::Pe => "PE",
        }
    }

    /// True when an image for `os` runs programs of this format: PE on
    /// windows, Mach-O on darwin, ELF elsewhere (linux, the BSDs).
    pub fn runs_on(self, os: &str) -> bool {
        match os {
            "windows" => self == Format::Pe,
            "darwin" | "ios" => self == Format::MachO,
            _ => self == Format::Elf,
        }
    }
}

/// An architecture as image platforms name it, or the raw machine number of
/// one this parser does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// A named architecture (`amd64`, `arm64`…).
    Named(&'static str),
    /// A machine number without a name here.
    Unknown(u32),
}

impl Arch {
    /// The platform architecture name, when known.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Arch::Named(n) => Some(n),
            Arch::Unknown(_) => None,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arch::Named(n) => f.write_str(n),
            Arch::Unknown(m) => write!(f, "an unknown machine ({m:#x})"),
        }
    }
}

/// What an executable's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executable {
    /// Its format.
    pub format: Format,
    /// The architectures it runs on: one, or one per slice of a fat Mach-O.
    pub architectures: Vec<Arch>,
}

impl Executable {
    /// Reads the header at the start of `head` (the file's first bytes, up
    /// to [`HEAD_BYTES`]); `None` when it is no executable of a known format
    /// or is cut short.
    pub fn parse(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"\x7fELF") {
            return elf(head);
        }
        if head.starts_with(b"MZ") {
            return pe(head);
        }
        macho(head)
    }

    /// True when an image for `platform` can run it: the platform's OS
    /// runs this format and one of its architectures is the platform's.
    pub fn runs_on(&self, platform: &Platform) -> bool {
        self.format.runs_on(platform.os())
            && self
                .architectures
                .iter()
                .any(|a| a.name() == Some(platform.architecture()))
    }
}

impl fmt::Display for Executable {
    /// `an ELF executable for amd64`, `a Mach-O executable for amd64 and arm64`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let article = if self.format == Format::Elf {
            "an"
        } else {
            "a"
        };
        let archs: Vec<String> = self.architectures.iter().map(Arch::to_string).collect();
        write!(
            f,
            "{article} {} executable for {}",
            self.format.as_str(),
            archs.join(" and ")
        )
    }
}

/// The `N` bytes at `at`, in big-endian order (reversed when `little`).
fn be_bytes_at<const N: usize>(b: &[u8], at: usize, little: bool) -> Option<[u8; N]> {
    let mut bytes: [u8; N] = b.get(at..at.checked_add(N)?)?.try_into().ok()?;
    if little {
        bytes.reverse();
    }
    Some(bytes)
}

fn u16_at(b: &[u8], at: usize, little: bool) -> Option<u16> {
    be_bytes_at(b, at, little).map(u16::from_be_bytes)
}

fn u32_at(b: &[u8], at: usize, little: bool) -> Option<u32> {
    be_bytes_at(b, at, little).map(u32::from_be_bytes)
}

/// ELF: `e_ident[EI_CLASS]` (1 = 32-bit, 2 = 64-bit), `e_ident[EI_DATA]`
/// (1 = little-endian, 2 = big-endian), `e_machine` at offset 18.
fn elf(b: &[u8]) -> Option<Executable> {
    let wide = match b.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let little = match b.get(5)? {
        1 => true,
        2 => false,
        _ => return None,
    };
    let machine = u16_at(b, 18, little)?;
    let name = match (machine, wide, little) {
        (3, _, _) => "386",
        (62, _, _) => "amd64",
        (40, _, _) => "arm",
        (183, _, _) => "arm64",
        (8, false, true) => "mipsle",
        (8, false, false) => "mips",
        (8, true, true) => "mips64le",
        (8, true, false) => "mips64",
        (20, _, _) => "ppc",
        (21, _, true) => "ppc64le",
        (21, _, false) => "ppc64",
        (22, true, _) => "s390x",
        (22, false, _) => "s390",
        (243, true, _) => "riscv64",
        (243, false, _) => "riscv32",
        (258, _, _) => "loong64",
        (m, _, _) => {
            return Some(Executable {
                format: Format::Elf,
                architectures: vec![Arch::Unknown(u32::from(m))],
            });
        }
    };
    Some(Executable {
        format: Format::Elf,
        architectures: vec![Arch::Named(name)],
    })
}

/// PE: `e_lfanew` at 0x3c points at `PE\0\0`, followed by the COFF
/// `Machine`. A DOS program without a PE header is not one.
fn pe(b: &[u8]) -> Option<Executable> {
    let at = usize::try_from(u32_at(b, 0x3c, true)?).ok()?;
    if b.get(at..at.checked_add(4)?)? != b"PE\0\0" {
        return None;
    }
    let machine = u16_at(b, at + 4, true)?;
    let arch = match machine {
        0x014c => Arch::Named("386"),
        0x8664 => Arch::Named("amd64"),
        0xaa64 => Arch::Named("arm64"),
        0x01c0 | 0x01c2 | 0x01c4 => Arch::Named("arm"),
        0x5064 => Arch::Named("riscv64"),
        0x6264 => Arch::Named("loong64"),
        m => Arch::Unknown(u32::from(m)),
    };
    Some(Executable {
        format: Format::Pe,
        architectures: vec![arch],
    })
}

/// Mach-O `cputype` values (`CPU_ARCH_ABI64` is `0x0100_0000`).
fn macho_arch(cputype: u32) -> Arch {
    match cputype {
        7 => Arch::Named("386"),
        0x0100_0007 => Arch::Named("amd64"),
        12 => Arch::Named("arm"),
        0x0100_000c => Arch::Named("arm64"),
        18 => Arch::Named("ppc"),
        0x0100_0012 => Arch::Named("ppc64"),
        m => Arch::Unknown(m),
    }
}

/// Mach-O: a thin file (`0xfeedface`/`0xfeedfacf` in the file's byte
/// order, `cputype` next) or a fat one (`0xcafebabe`/`0xcafebabf`,
/// big-endian, a slice count, then one entry per slice). Java class files
/// share the fat magic; their version in place of the count is 45 or more,
/// so a count of 1 to 30 is read as fat, as `file(1)` does.
fn macho(b: &[u8]) -> Option<Executable> {
    let magic_be = u32_at(b, 0, false)?;
    let magic_le = u32_at(b, 0, true)?;
    let thin = |little: bool| {
        let cputype = u32_at(b, 4, little)?;
        Some(Executable {
            format: Format::MachO,
            architectures: vec![macho_arch(cputype)],
        })
    };
    match (magic_be, magic_le) {
        (0xfeed_face | 0xfeed_facf, _) => thin(false),
        (_, 0xfeed_face | 0xfeed_facf) => thin(true),
        (0xcafe_babe | 0xcafe_babf, _) => {
            let entry = if magic_be == 0xcafe_babe { 20 } else { 32 };
            let count = u32_at(b, 4, false)?;
            if !(1..=30).contains(&count) {
                return None;
            }
            let mut architectures = Vec::new();
            for i in 0..count as usize {
                let arch = macho_arch(u32_at(b, 8 + i * entry, false)?);
                if !architectures.contains(&arch) {
                    architectures.push(arch);
                }
            }
            Some(Executable {
                format: Format::MachO,
                architectures,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF header: class, data encoding and `e_machine`, zeros elsewhere.
    fn elf_header(class: u8, little: bool, machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = class;
        h[5] = if little { 1 } else { 2 };
        h[6] = 1;
        let m = if little {
            machine.to_le_bytes()
        } else {
            machine.to_be_bytes()
        };
        h[18..20].copy_from_slice(&m);
        h
    }

    fn pe_header(machine: u16, lfanew: u32) -> Vec<u8> {
        let mut h = vec![0u8; lfanew as usize + 24];
        h[..2].copy_from_slice(b"MZ");
        h[0x3c..0x40].copy_from_slice(&lfanew.to_le_bytes());
        let at = lfanew as usize;
        h[at..at + 4].copy_from_slice(b"PE\0\0");
        h[at + 4..at + 6].copy_from_slice(&machine.to_le_bytes());
        h
    }

    fn fat_header(wide: bool, cputypes: &[u32]) -> Vec<u8> {
        let magic: u32 = if wide { 0xcafe_babf } else { 0xcafe_babe };
        let entry = if wide { 32 } else { 20 };
        let mut h = magic.to_be_bytes().to_vec();
        h.extend((cputypes.len() as u32).to_be_bytes());
        for c in cputypes {
            let mut e = vec![0u8; entry];
            e[..4].copy_from_slice(&c.to_be_bytes());
            h.extend(e);
        }
        h
    }

    fn names(e: &Executable) -> Vec<String> {
        e.architectures.iter().map(Arch::to_string).collect()
    }

    #[test]
    fn elf_machines() {
        let cases = [
            (2, true, 62, "amd64"),
            (2, true, 183, "arm64"),
            (1, true, 40, "arm"),
            (1, true, 3, "386"),
            (2, true, 21, "ppc64le"),
            (2, false, 21, "ppc64"),
            (2, false, 22, "s390x"),
            (2, true, 243, "riscv64"),
            (2, true, 8, "mips64le"),
            (1, false, 8, "mips"),
            (2, true, 258, "loong64"),
        ];
        for (class, little, machine, want) in cases {
            let e = Executable::parse(&elf_header(class, little, machine)).expect("an ELF file");
            assert_eq!(e.format, Format::Elf);
            assert_eq!(names(&e), [want], "machine {machine}");
        }
        let odd = Executable::parse(&elf_header(2, true, 0x1234)).expect("an ELF file");
        assert_eq!(odd.architectures, [Arch::Unknown(0x1234)]);
        assert_eq!(
            odd.to_string(),
            "an ELF executable for an unknown machine (0x1234)"
        );
    }

    #[test]
    fn elf_checked_against_platforms() {
        let amd64 = Executable::parse(&elf_header(2, true, 62)).expect("elf");
        assert_eq!(amd64.to_string(), "an ELF executable for amd64");
        assert!(amd64.runs_on(&"linux/amd64".parse().expect("platform")));
        assert!(!amd64.runs_on(&"linux/arm64".parse().expect("platform")));
        assert!(!amd64.runs_on(&"windows/amd64".parse().expect("platform")));
        let arm = Executable::parse(&elf_header(1, true, 40)).expect("elf");
        assert!(arm.runs_on(&"linux/arm/v6".parse().expect("platform")));
    }

    #[test]
    fn truncated_or_odd_headers_are_not_executables() {
        let full = elf_header(2, true, 62);
        for len in 0..20 {
            assert_eq!(Executable::parse(&full[..len]), None, "{len} bytes");
        }
        assert!(Executable::parse(&full[..20]).is_some());
        let mut bad_class = full.clone();
        bad_class[4] = 9;
        assert_eq!(Executable::parse(&bad_class), None);
        for text in [
            &b"#!/bin/sh\necho hi\n"[..],
            b"",
            b"MZ",
            b"{\"a\":1}",
            b"\x1f\x8b\x08\0",
        ] {
            assert_eq!(Executable::parse(text), None);
        }
    }

    #[test]
    fn pe_machines() {
        for (machine, want) in [
            (0x8664, "amd64"),
            (0xaa64, "arm64"),
            (0x014c, "386"),
            (0x01c4, "arm"),
        ] {
            let e = Executable::parse(&pe_header(machine, 0x80)).expect("a PE file");
            assert_eq!(e.format, Format::Pe);
            assert_eq!(names(&e), [want]);
        }
        let e = Executable::parse(&pe_header(0x8664, 0x80)).expect("pe");
        assert!(e.runs_on(&"windows/amd64".parse().expect("platform")));
        assert!(!e.runs_on(&"linux/amd64".parse().expect("platform")));
        assert_eq!(e.to_string(), "a PE executable for amd64");
        // A DOS program (no PE signature) and a header pointing past the end.
        let mut dos = pe_header(0x8664, 0x80);
        dos[0x80] = b'X';
        assert_eq!(Executable::parse(&dos), None);
        let mut far = pe_header(0x8664, 0x80);
        far[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Executable::parse(&far), None);
    }

    #[test]
    fn macho_thin_both_byte_orders() {
        // A little-endian arm64 binary as written on disk: cf fa ed fe, then cputype.
        let mut le = 0xfeed_facf_u32.to_le_bytes().to_vec();
        le.extend(0x0100_000c_u32.to_le_bytes());
        le.extend([0u8; 24]);
        let e = Executable::parse(&le).expect("mach-o");
        assert_eq!(e.format, Format::MachO);
        assert_eq!(names(&e), ["arm64"]);
        assert!(e.runs_on(&"darwin/arm64".parse().expect("platform")));
        assert!(!e.runs_on(&"linux/arm64".parse().expect("platform")));
        let mut be = 0xfeed_face_u32.to_be_bytes().to_vec();
        be.extend(18_u32.to_be_bytes());
        assert_eq!(names(&Executable::parse(&be).expect("mach-o")), ["ppc"]);
        let mut x86 = 0xfeed_facf_u32.to_le_bytes().to_vec();
        x86.extend(0x0100_0007_u32.to_le_bytes());
        assert_eq!(names(&Executable::parse(&x86).expect("mach-o")), ["amd64"]);
    }

    #[test]
    fn macho_fat_lists_every_slice() {
        let universal = fat_header(false, &[0x0100_0007, 0x0100_000c]);
        let e = Executable::parse(&universal).expect("fat mach-o");
        assert_eq!(names(&e), ["amd64", "arm64"]);
        assert_eq!(e.to_string(), "a Mach-O executable for amd64 and arm64");
        assert!(e.runs_on(&"darwin/arm64".parse().expect("platform")));
        assert!(e.runs_on(&"darwin/amd64".parse().expect("platform")));
        let wide = fat_header(true, &[0x0100_000c]);
        assert_eq!(names(&Executable::parse(&wide).expect("fat64")), ["arm64"]);
        // Cut short inside the slice table.
        assert_eq!(Executable::parse(&universal[..12]), None);
    }

    #[test]
    fn java_classes_are_not_fat_binaries() {
        // cafebabe, minor 0, major 52 (Java 8): the "count" reads 52.
        let class = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 0, 0, 0];
        assert_eq!(Executable::parse(&class), None);
        assert_eq!(Executable::parse(&fat_header(false, &[])), None);
    }
}
