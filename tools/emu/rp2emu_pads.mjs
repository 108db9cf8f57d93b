// Loaded with `node --import` before ../shared/rp2emu/rp2emu.mjs (tools/emu/rp2emu.py does it):
// two fidelity fixes to its bundled rp2040js, applied to the source as it loads, so the
// shared file stays as it is. Each patch must match exactly; if one does not (a new
// emulator build), the emulator refuses to start rather than run unpatched.
//
// 1. A pad reads what its pin drives. On the RP2040 the input path of an output pin
//    follows the pad (SIO GPIO_IN, PIO `wait pin`, `jmp pin`); rp2040js leaves it at the
//    pull or at what the control port last set, so a PIO counting the STEP output saw
//    nothing. A pin driven from outside (`set_pin`) still wins.
// 2. A state machine waiting on a pin runs at the pin's change. rp2040js steps PIO in
//    batches between the CPU's, far apart in emulated time (up to tens of ms with the
//    core asleep), so a second edge before the next batch was lost and `jmp pin` read DIR
//    late. The chip runs the next instructions within a few 8 ns cycles; here they run at
//    once, until the machine waits again (at most 32 instructions).
import { registerHooks } from "node:module";

const PATCHES = [
  [
    "function followPull(pin, state) {\n  if (pinInputs.has(pin)) return;\n",
    "function followPull(pin, state) {\n  if (pinInputs.has(pin)) return;\n" +
      "  if (state === GPIOPinState.High || state === GPIOPinState.Low) {\n" +
      "    mcu.gpio[pin].setInputValue(state === GPIOPinState.High);\n    return;\n  }\n",
  ],
  [
    "machine.waitIndex === this.index) {\n          machine.checkWait();\n",
    "machine.waitIndex === this.index) {\n          machine.checkWait();\n" +
      "          for (let k = 0; k < 32 && machine.enabled && !machine.waiting; k++) machine.step();\n",
  ],
];

registerHooks({
  load(url, context, nextLoad) {
    const r = nextLoad(url, context);
    if (!url.endsWith("/rp2emu.mjs")) return r;
    let src = String(r.source);
    for (const [from, to] of PATCHES) {
      if (src.split(from).length !== 2) throw new Error("rp2emu_pads: patch target not found once: " + from);
      src = src.replace(from, to);
    }
    return { ...r, source: src };
  },
});
