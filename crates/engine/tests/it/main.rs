//! Integration tests of dockhand-engine against the real engine.
