//! Hand-made ELF headers, for tests of code that reads an executable's
//! class, byte order and machine without running it.

/// `e_machine` of x86-64 (`amd64`).
pub const AMD64: u16 = 62;
/// `e_machine` of AArch64 (`arm64`).
pub const ARM64: u16 = 183;

/// The 64-byte header of a 64-bit little-endian ELF executable (`ET_EXEC`)
/// for `machine` ([`AMD64`], [`ARM64`]), and nothing after it.
pub fn header(machine: u16) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // ELFCLASS64
    h[5] = 1; // ELFDATA2LSB
    h[6] = 1; // EV_CURRENT
    h[16] = 2; // ET_EXEC
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h
}
