"""The supervisor: samples the sensors, runs every detector, annunciates, feeds the watchdog.

`service(pump)` runs every main-loop pass (every simulator step). It samples
at the board's period; between samples it only polls the button and says
which alarm pattern sounds (a board timer plays it; the simulator's passes
do). `watchdog_ok` holds only while the dose loop ticks and the sampling
runs, and the main loop feeds the watchdog only then: a faulty reading is an
alarm, never a reason to starve it.
Actions follow SPEC 7: OCCLUSION, STALL, DOSE_LOOP and BATTERY_CRITICAL stop
delivery (state `alarm`); SENSOR_FAULT and BATTERY_LOW warn and deliver.
"""

from drivers.button import Button
from drivers.buzzer import Buzzer
from drivers.led import Led
from firmware.dose import MODE_BACKOFF, MODE_RUN, MODE_STOP, wrap_delta
from firmware.pump import ALARM, REFILL, RUNNING, STOPPED
from firmware.safety import relief as rl
from firmware.safety.checks import DoseLoop, Stall, battery_level
from firmware.safety.occlusion import Occlusion
from firmware.safety.sensing import Sensors
from firmware.safety.sound import TICK_MS, Annunciator

STOPPED_AFTER_MS = 1800000  # SPEC 7: a person stopped an active program 30 min ago
STOPPED_EVERY_MS = 900000  # then a reminder every 15 min
SENSOR_CLEAR_SAMPLES = 4  # good samples in a row before SENSOR_FAULT clears
# stopping alarms a fresh start re-evaluates from a fresh baseline (SPEC 7)
_REDETECT = ("OCCLUSION", "STALL", "DOSE_LOOP", "BATTERY_CRITICAL", "RESERVOIR_EMPTY")


class Supervisor:
    def __init__(self, pump):
        b = pump.board
        self._pump = pump
        self.sensors = Sensors(b)
        self.occlusion = Occlusion(pump.steps_per_ml)
        self.stall = Stall()
        self.loop = DoseLoop()
        self.button = Button(b.button) if getattr(b, "button", None) is not None else None
        buzzer = getattr(b, "buzzer", None)
        led = getattr(b, "led", None)
        self.sound = Annunciator(Buzzer(buzzer) if buzzer is not None else None, Led(led) if led else None)
        start_sound = getattr(b, "start_sound", None)
        if start_sound is not None:
            # a board timer plays the pattern: main-loop stalls (GC, flash erase) cannot stretch a pulse
            self.sound.timed = True
            start_sound(self.sound.on_tick, TICK_MS)
        self.period_ms = getattr(b, "sample_floor_ms", None) or b.sample_ms
        self._last_ms = pump.now_ms()
        self._pass_ms = self._last_ms
        self.last_sample_ms = self._last_ms
        self._last_ticks = pump.ledger.ticks
        self._last_fwd = pump.ledger.fwd
        self._last_drop = pump.ledger.dropped_ticks
        self._was_running = False
        self._good = 0
        self._faults = []
        self._stopped_at = None  # pump time a person stopped an active program
        self._remind_at = None
        self.relief = None  # the pressure-guarded back-off after an occlusion, while it runs
        self._rev0 = 0  # the engine's reverse-step counter when it began
        self.watchdog_ok = True
        self.feeds = 0
        pump.listeners.append(self._on_event)
        attach = getattr(b, "attach_engine", None)
        if attach is not None:
            attach(pump.engine)  # the simulator's model counts the motor's steps

    # ---- events ---------------------------------------------------------------

    def _on_event(self, name, fields):
        p = self._pump
        if name == "start":
            self._end_relief(p, rl.CANCELLED)
            self._fresh()
            self._stopped_at = None
            for code in _REDETECT:
                a = p.alarms.get(code)
                if a is not None and a.acked:
                    p.alarms.clear(code)
            p.alarms.clear("STOPPED")
        elif name == "stop" and p.mode != "none":
            self._stopped_at = p.now_ms()
            self._remind_at = None
        if self.relief is not None and (name == "stop" or (name == "alarm" and self._stops_too(fields))):
            # a person's stop, or another stopping alarm (stall, dose loop, battery, empty): the
            # motor stays off, the back-off included
            p.engine.stop()
            self._end_relief(p, rl.CANCELLED)

    def _stops_too(self, fields):
        code = fields.get("code")
        a = self._pump.alarms.get(code) if code != "OCCLUSION" else None
        return a is not None and a.stops

    def _fresh(self):
        self.occlusion.reset()
        self.stall.reset()

    # ---- the loop ---------------------------------------------------------------

    def service(self, pump):
        now = pump.now_ms()
        dt = now - self._pass_ms
        self._pass_ms = now
        if self.button is not None and self.button.poll(dt):
            self._button(pump)
        if now - self._last_ms >= self.period_ms:
            self._sample(pump, now, now - self._last_ms)
            self._last_ms = now
        self._stopped_reminder(pump, now)
        a = pump.alarms
        self.sound.update(now, a.top(True), a.top(False))
        self.watchdog_ok = self.loop.healthy() and now - self.last_sample_ms < 2 * self.period_ms + 1000
        if self.watchdog_ok:
            self.feeds += 1  # the main loop feeds the hardware watchdog on watchdog_ok

    def _sample(self, pump, now, dt):
        self.last_sample_ms = now
        eng = pump.engine
        led = pump.ledger
        mode = eng.mode()
        dticks = led.ticks - self._last_ticks
        dfwd = led.fwd - self._last_fwd
        ddrop = led.dropped_ticks - self._last_drop
        self._last_ticks = led.ticks
        self._last_fwd = led.fwd
        self._last_drop = led.dropped_ticks
        al = pump.alarms
        # the dose loop; ticks it dropped (late beyond its bound) are logged as under-delivery
        if ddrop:
            pump.event("ticks_dropped", ticks=ddrop)
        why = self.loop.check(now, dt, dticks, ddrop)
        if why is not None and al.get("DOSE_LOOP") is None:
            eng.stop()
            al.raise_alarm("DOSE_LOOP", why)
        # sensors and their health
        running = pump.state == RUNNING
        faults = self.sensors.sample(dt, running, refill=pump.state == REFILL)
        self._health(pump, pump.power.on_sample(pump, faults) if pump.power is not None else faults)
        # stall
        why = self.stall.check(
            pump.board.stepper, mode, eng.rate(), eng.ticks_per_day, dticks, dfwd, eng.held()
        )
        if why is not None and al.get("STALL") is None:
            al.raise_alarm("STALL", why)
        self._relieve(pump)  # the back-off after an occlusion, a chunk a sample (none: returns)
        # occlusion, only while pushing forward
        fwd = mode == MODE_RUN
        if fwd and not self._was_running:
            self.occlusion.reset()
        self._was_running = fwd
        p = self.sensors.pressure_pa()
        if fwd and p is not None:
            hit = self.occlusion.sample(p, led.total_steps, dt, eng.rate())
            if hit is not None:
                self._occluded(pump, hit)
        # battery
        mv = self.sensors.battery_mv()
        if mv is not None:
            low, crit = battery_level(
                mv, al.get("BATTERY_LOW") is not None, al.get("BATTERY_CRITICAL") is not None
            )
            detail = "cell %d mV" % mv
            if crit:
                if al.get("BATTERY_CRITICAL") is None:
                    al.raise_alarm("BATTERY_CRITICAL", detail)
            else:
                al.clear("BATTERY_CRITICAL")
            if low:
                al.raise_alarm("BATTERY_LOW", detail)
            else:
                al.clear("BATTERY_LOW")

    def _health(self, pump, faults):
        al = pump.alarms
        if faults:
            self._good = 0
            detail = ", ".join(faults)
            new = [f for f in faults if f not in self._faults]
            if faults != self._faults:
                pump.event("sensor_fault", faults=faults)
            self._faults = faults
            a = al.get("SENSOR_FAULT")
            if a is not None and a.acked and a.active and new:
                al.resound("SENSOR_FAULT", detail)  # a new fault is news, even after an ack
            else:
                al.raise_alarm("SENSOR_FAULT", detail)
        elif self._faults:
            self._good += 1
            if self._good >= SENSOR_CLEAR_SAMPLES:
                self._faults = []
                al.clear("SENSOR_FAULT")

    def _occluded(self, pump, hit):
        pump.engine.stop()  # first: finding where the rise began takes longer than a tick
        try:
            steps = self.occlusion.relief(hit["at_steps"])
        except Exception:  # noqa: BLE001  (a MemoryError in the fit on a fragmented heap)
            # the alarm matters more than the relief: no back-off errs toward a bolus when the
            # blockage clears, never toward drawing fluid back
            steps = 0
            hit["pushed_steps"] = -1
            hit["backoff_steps"] = 0
        self._was_running = False
        pump.alarms.raise_alarm(
            "OCCLUSION", "%s: +%d Pa after %d steps" % (hit["kind"], hit["dp_pa"], hit["pushed_steps"])
        )
        # backoff_steps is the bound; the guard below may stop short of it (occlusion_relief says)
        pump.event("occlusion", backoff_steps=steps, **{k: hit[k] for k in ("kind", "dp_pa", "pushed_steps")})
        base = hit.get("base_pa")
        if steps > 0 and base is not None:
            self.relief = rl.Relief(steps, base, pump.steps_per_ml, hit.get("stop_pa"))
            self._rev0 = pump.engine.counters()[2]
            self._relieve(pump)  # the first chunk at once, after the stop (a stop cancels a back-off)

    def next_due_ms(self):
        """Milliseconds to the next sample while a back-off is guarded, else None (the
        simulator steps onto it: a chunk per sample, as on a board)."""
        if self.relief is None:
            return None
        return self._last_ms + self.period_ms - self._pump.now_ms()

    def _relieve(self, pump):
        # one chunk per sample: the pressure is read with the motor still, never mid-chunk
        eng = pump.engine
        r = self.relief
        if r is None:
            return
        if pump.state != ALARM or eng.mode() == MODE_RUN:
            self._end_relief(pump, rl.CANCELLED)
            return
        if eng.mode() == MODE_BACKOFF:
            return
        n = r.next(self.sensors.pressure_mean_pa(rl.READS))
        if n:
            eng.back_off(n)
        elif r.end is not None:
            self._end_relief(pump, r.end)

    def _end_relief(self, pump, why):
        r = self.relief
        if r is None:
            return
        self.relief = None
        r.stop(why)
        # the steps the motor really reversed: a chunk a stop cut short counts for what it ran
        done = wrap_delta(pump.engine.counters()[2], self._rev0)
        left = r.left + r.done - done
        pump.event("occlusion_relief", steps=done, bound_left=left, end=r.end, dp_pa=r.last_dp_pa)

    def _stopped_reminder(self, pump, now):
        if self._stopped_at is None:
            return
        if pump.state != STOPPED:
            self._stopped_at = None
            pump.alarms.clear("STOPPED")
            return
        a = pump.alarms.get("STOPPED")
        if a is None:
            if now - self._stopped_at >= STOPPED_AFTER_MS:
                pump.alarms.raise_alarm("STOPPED", "stopped by a person for 30 min")
                self._remind_at = None
            return
        if a.acked:
            if self._remind_at is None:
                self._remind_at = now + STOPPED_EVERY_MS
            elif now >= self._remind_at:
                self._remind_at = None
                pump.alarms.resound("STOPPED")

    def _button(self, pump):
        pump.event("button")
        t = pump.therapy
        if t is None:
            return
        try:
            t.patient_bolus("button")
        except Exception as e:  # a refused bolus is logged, never raised into the loop
            pump.event("button_refused", code=getattr(e, "code", "E_INTERNAL"), error=str(e))

    def engine_idle(self):
        return self._pump.engine.mode() == MODE_STOP
