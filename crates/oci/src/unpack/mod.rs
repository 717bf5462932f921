//! Safe unpacking of the files the host needs from image layers.
