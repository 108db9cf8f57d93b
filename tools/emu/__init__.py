"""The emulated Pico: the rp2emu harness (../shared/rp2emu) and aimed power cuts on it."""
