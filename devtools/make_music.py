"""Generate our own evaluation music: MIDI written with mido, rendered with FluidSynth.

    python -m devtools.make_music --out DIR [--only NAME ...] [--check]

Writes, for each track, DIR/NAME.mid, DIR/NAME.flac (44.1 kHz stereo, peak -1 dBFS) and
DIR/NAME.beats (one line per beat: ``time_s<TAB>beat_in_bar``, like
shared/data/beats/ballroom_waltz.beats), plus DIR/split.json (DEV / HOLDOUT / UNSEEN and each
track's tempo, meter and length), DIR/pink_noise.flac (60 s, seed 0) and DIR/README.txt.

Timing. Every track is written in musical units (quarter notes; eighths for the 7/8, 12/8 and
6/8 pieces) and mapped to seconds through the track's own tempo map (constant, or drifting for
the rubato pieces). The MIDI file uses 1 tick = 1 ms (480 ticks per quarter at 480000 µs per quarter), so
every note is placed at its expressive time in seconds, rounded to the millisecond. The
annotated beat is the tempo map's time of the beat (tempo drift and ritardandi included, also
rounded to the millisecond); per-note humanising jitter is zero-mean noise around it. FluidSynth
adds about 4 ms between a note-on and its onset in the audio: not compensated (well inside the
±70 ms of beat scoring).

With ``--check`` the finished files are checked: loudness (RMS envelope in 0.5 s windows,
percentiles in dBFS) and how far librosa's offline beat tracker agrees with the annotations
(mir_eval beat F-measure, ±70 ms, beats before 5 s trimmed).

Uses the FluidR3_GM soundfont (MIT licence) at /usr/share/sounds/sf2/FluidR3_GM.sf2.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

import mido
import numpy as np
import soundfile as sf

from visualizer.offline.response import pink_noise

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SR = 44100

# Half each, genres mixed: band backbeat, electronic, odd/triple metre, soft/expressive and
# jazz/latin/dynamics in both halves.
DEV = ["rock_120", "edm_128", "waltz_90", "piano_ballad_66", "swing_trio_150", "crescendo_96"]
HOLDOUT = ["funk_105", "hiphop_90", "folk_7_8_140", "calm_pad_54", "bossa_130", "polka_120"]
# Written after DEV and HOLDOUT had both been looked at: for the final held-out figures only. Do not
# read, listen to or tune on these tracks.
UNSEEN = ["reggae_76", "shuffle_12_8_66", "dnb_174", "samba_104", "quartet_6_8_62", "punk_184"]

DRUMS = 9  # MIDI channel 10

# GM percussion keys
KICK, KICK2, STICK, SNARE, CLAP, ESNARE = 36, 35, 37, 38, 39, 40
HH, HH_PEDAL, HH_OPEN, CRASH, RIDE, RIDE_BELL = 42, 44, 46, 49, 51, 53
TOM_LO, TOM_MID, TOM_HI = 45, 47, 50
TAMB, COWBELL, BONGO_HI, BONGO_LO, CONGA_HI, CONGA_LO = 54, 56, 60, 61, 62, 64
SHAKER, CLAVES = 70, 75

PC = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
      "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}
QUALITY = {"": (0, 4, 7), "m": (0, 3, 7), "5": (0, 7), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
           "m7": (0, 3, 7, 10), "m7b5": (0, 3, 6, 10), "dim": (0, 3, 6), "sus4": (0, 5, 7),
           "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9), "9": (0, 4, 7, 10, 14), "m9": (0, 3, 7, 10, 14),
           "maj9": (0, 4, 7, 11, 14), "7b9": (0, 4, 7, 10, 13), "add9": (0, 4, 7, 14)}
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
DORIAN = (0, 2, 3, 5, 7, 9, 10)
MIXO = (0, 2, 4, 5, 7, 9, 10)
HARM_MINOR = (0, 2, 3, 5, 7, 8, 11)
BLUES = (0, 3, 5, 6, 7, 10)


def parse_chord(name: str) -> tuple[int, tuple[int, ...]]:
    """'F#m7' -> (root pitch class 6, intervals (0, 3, 7, 10))."""
    root = name[:2] if len(name) > 1 and name[1] in "#b" else name[:1]
    return PC[root], QUALITY[name[len(root):]]


def chord_pcs(name: str) -> set[int]:
    root, iv = parse_chord(name)
    return {(root + i) % 12 for i in iv}


def bass_note(name: str, low: int = 36) -> int:
    """The chord's root, the first one at or above ``low``."""
    root, _ = parse_chord(name)
    return low + (root - low) % 12


def voicing(name: str, low: int = 55, skip_root: bool = False) -> list[int]:
    """Close-position chord with its lowest note at or above ``low`` (MIDI note numbers)."""
    root, iv = parse_chord(name)
    base = low + (root - low) % 12
    notes = [base + i for i in iv if not (skip_root and i == 0)]
    return sorted(n - 12 if n - 12 >= low else n for n in notes)


class Timeline:
    """Musical position u (in the track's units) -> seconds, through a tempo map.

    bpm: units per minute, a number or a function of an array of u."""

    def __init__(self, n_units: float, bpm, res: int = 96):
        u = np.arange(int(np.ceil(n_units + 8)) * res + 1) / res
        mid = u[:-1] + 0.5 / res
        b = np.asarray(bpm(mid) if callable(bpm) else np.full_like(mid, float(bpm)), float)
        self.u = u
        self.t = np.concatenate([[0.0], np.cumsum(60.0 / b / res)])

    def __call__(self, u: float) -> float:
        return float(np.interp(u, self.u, self.t))


class Song:
    """Notes in seconds, built from musical positions; beats; written to MIDI."""

    def __init__(self, name: str, timeline: Timeline, *, bpm: float, meter: str,
                 bar_beats: list[float], bar_units: float, n_bars: int, genre: str):
        self.name, self.tl, self.genre = name, timeline, genre
        self.bpm, self.meter = bpm, meter
        self.bar_beats, self.bar_units, self.n_bars = bar_beats, bar_units, n_bars
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.notes: list[tuple[float, float, int, int, int]] = []  # t0, t1, channel, key, vel
        self.ccs: list[tuple[float, int, int, int]] = []  # t, channel, control, value
        self.setup: list[mido.Message] = []
        self.end_s = timeline(n_bars * bar_units)

    # --- parts -------------------------------------------------------------------------------
    def program(self, ch: int, prog: int, *, volume: int = 100, pan: int = 64,
                reverb: int = 40, chorus: int = 0) -> None:
        self.setup += [mido.Message("program_change", channel=ch, program=prog),
                       mido.Message("control_change", channel=ch, control=7, value=volume),
                       mido.Message("control_change", channel=ch, control=10, value=pan),
                       mido.Message("control_change", channel=ch, control=91, value=reverb),
                       mido.Message("control_change", channel=ch, control=93, value=chorus),
                       mido.Message("control_change", channel=ch, control=11, value=127)]

    def note(self, ch: int, u: float, dur: float, key: int, vel: float, *, jitter_s: float = 0.0,
             shift_s: float = 0.0) -> None:
        """A note at position u lasting dur units; jitter_s: sd of zero-mean timing noise (s)."""
        j = self.rng.normal(0.0, jitter_s) if jitter_s > 0 else 0.0
        t0 = self.tl(u) + shift_s + j
        t1 = self.tl(u + dur) + shift_s + j
        t0 = max(t0, 0.0)
        if t1 - t0 < 0.02:
            t1 = t0 + 0.02
        self.notes.append((t0, t1, ch, int(np.clip(key, 0, 127)), int(np.clip(round(vel), 1, 127))))

    def chord(self, ch: int, u: float, dur: float, keys, vel: float, *, strum_s: float = 0.0,
              jitter_s: float = 0.0) -> None:
        for i, k in enumerate(keys):
            self.note(ch, u, dur, k, vel * (1.0 - 0.04 * i * (strum_s > 0)) + self.rng.normal(0, 2),
                      jitter_s=jitter_s, shift_s=i * strum_s)

    def drum(self, u: float, key: int, vel: float, *, jitter_s: float = 0.004) -> None:
        self.note(DRUMS, u, 0.25, key, vel + self.rng.normal(0, 4), jitter_s=jitter_s)

    def cc_ramp(self, ch: int, control: int, u0: float, u1: float, v0: float, v1: float,
                step: float = 0.25) -> None:
        for u in np.arange(u0, u1 + 1e-9, step):
            x = (u - u0) / max(u1 - u0, 1e-9)
            self.ccs.append((self.tl(u), ch, control, int(np.clip(round(v0 + (v1 - v0) * x), 0, 127))))

    # --- beats -------------------------------------------------------------------------------
    def beats(self) -> list[tuple[float, int]]:
        out = []
        for bar in range(self.n_bars):
            for i, b in enumerate(self.bar_beats):
                out.append((round(self.tl(bar * self.bar_units + b), 3), i + 1))
        return out

    # --- MIDI --------------------------------------------------------------------------------
    def midi(self) -> mido.MidiFile:
        mf = mido.MidiFile(type=0, ticks_per_beat=480)
        tr = mido.MidiTrack()
        mf.tracks.append(tr)
        tr.append(mido.MetaMessage("track_name", name=self.name, time=0))
        tr.append(mido.MetaMessage("set_tempo", tempo=480000, time=0))  # 1 tick = 1 ms
        events: list[tuple[int, int, mido.Message]] = []  # tick, order, message
        for m in self.setup:
            events.append((0, 0, m))
        for t, ch, ctl, val in self.ccs:
            events.append((int(round(t * 1000)), 1, mido.Message("control_change", channel=ch,
                                                                  control=ctl, value=val)))
        for t0, t1, ch, key, vel in self.notes:
            a, b = int(round(t0 * 1000)), int(round(t1 * 1000))
            events.append((a, 3, mido.Message("note_on", channel=ch, note=key, velocity=vel)))
            events.append((max(b, a + 1), 2, mido.Message("note_off", channel=ch, note=key, velocity=0)))
        events.sort(key=lambda e: (e[0], e[1]))
        now = 0
        for tick, _, m in events:
            tr.append(m.copy(time=tick - now))
            now = tick
        tr.append(mido.MetaMessage("end_of_track", time=2000))
        return mf


def new_song(name: str, genre: str, *, bpm, base_bpm: float, meter: str, bar_units: float,
             bar_beats: list[float], n_bars: int) -> Song:
    tl = Timeline(n_bars * bar_units + 8, bpm)
    return Song(name, tl, bpm=base_bpm, meter=meter, bar_beats=bar_beats, bar_units=bar_units,
                n_bars=n_bars, genre=genre)


def melody(song: Song, ch: int, u0: float, rhythm: list[tuple[float, float]], chord_at,
           scale_root: int, scale: tuple[int, ...], lo: int, hi: int, vel: float, *,
           start: int | None = None, jitter_s: float = 0.006, accent_every: float = 1.0,
           contour: float = 0.0) -> int:
    """A melodic phrase: onsets from ``rhythm`` [(u, dur)] relative to u0; on-beat notes land on
    chord tones, the others move by scale steps. Returns the last pitch (to continue from)."""
    rng = song.rng
    scale_keys = [k for k in range(lo, hi + 1) if (k - scale_root) % 12 in scale]
    p = start if start is not None else scale_keys[len(scale_keys) // 2]
    for u, d in rhythm:
        pcs = chord_at(u0 + u)
        if abs(u / accent_every - round(u / accent_every)) < 1e-6:
            cands = [k for k in scale_keys if k % 12 in pcs and abs(k - p) <= 7] or scale_keys
            w = np.array([1.0 / (1 + abs(k - p - contour)) for k in cands])
            p = int(rng.choice(cands, p=w / w.sum()))
        else:
            i = int(np.argmin([abs(k - p) for k in scale_keys]))
            step = int(rng.choice([-2, -1, -1, 1, 1, 2])) + int(np.sign(contour))
            i = int(np.clip(i + step, 0, len(scale_keys) - 1))
            p = scale_keys[i]
        accent = 8 if abs(u - round(u)) < 1e-6 else 0
        song.note(ch, u0 + u, d * 0.95, p, vel + accent + rng.normal(0, 5), jitter_s=jitter_s)
    return p


def chords_by_bar(prog: list[str], bar_units: float, per_bar: int = 1):
    """chord_at(u) for a progression that repeats, ``per_bar`` chords per bar."""
    seg = bar_units / per_bar

    def at_name(u: float) -> str:
        return prog[int(u // seg) % len(prog)]

    def at(u: float) -> set[int]:
        return chord_pcs(at_name(u))
    at.name = at_name  # type: ignore[attr-defined]
    return at


def feel(u: float, offsets: tuple[float, ...], grid: float) -> float:
    """Position u moved by a groove: the k-th ``grid`` step of each beat (unit) is shifted by
    ``offsets[k]`` units (e.g. (0, 0.08) with grid 0.5: lightly swung eighths)."""
    x = (u % 1.0) / grid
    k = int(round(x))
    return u + offsets[k % len(offsets)] if abs(x - k) < 1e-6 else u


# ------------------------------------------------------------------------------------------------
# The tracks
# ------------------------------------------------------------------------------------------------

def rock_120() -> Song:
    """4/4 at 120 bpm in E: drums, picked bass, overdriven and distorted guitars."""
    bars = 26
    s = new_song("rock_120", "rock", bpm=120, base_bpm=120, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 16, volume=110)           # power kit
    s.program(0, 34, volume=105, pan=64)       # picked bass
    s.program(1, 30, volume=92, pan=40)        # distortion guitar
    s.program(2, 29, volume=80, pan=90)        # overdriven guitar
    verse = ["E5", "E5", "C5", "D5"]
    chorus = ["E", "B", "C#m", "A"]
    bridge = ["A", "A", "B", "B"]
    # sections: (first bar, n bars, kind, level)
    sections = [(0, 2, "intro", 70), (2, 8, "verse", 85), (10, 8, "chorus", 112),
                (18, 4, "bridge", 70), (22, 4, "chorus", 120)]
    for b0, n, kind, lvl in sections:
        prog = {"intro": verse, "verse": verse, "chorus": chorus, "bridge": bridge}[kind]
        for b in range(b0, b0 + n):
            u = b * 4
            name = prog[(b - b0) % 4]
            root = bass_note(name, 28)
            last = b == b0 + n - 1
            # drums
            if kind != "intro" or b == b0 + n - 1:
                if b == b0 and kind != "intro":
                    s.drum(u, CRASH, lvl + 10)
                for e in range(8):
                    if kind == "bridge":
                        s.drum(u + e * 0.5, RIDE, lvl - 15 + (10 if e % 2 == 0 else 0))
                    else:
                        s.drum(u + e * 0.5, HH if kind != "chorus" else HH_OPEN if e % 2 else HH,
                               lvl - 20 + (12 if e % 2 == 0 else 0))
                kicks = [0, 2.5] if kind != "chorus" else [0, 1.5, 2, 2.5]
                if kind == "bridge":
                    kicks = [0]
                for k in kicks:
                    s.drum(u + k, KICK, lvl + 5)
                for k in ([1, 3] if kind != "bridge" else [2]):
                    s.drum(u + k, SNARE, lvl + 8)
                if last and kind in ("verse", "chorus", "intro"):
                    for i, k in enumerate([3, 3.25, 3.5, 3.75]):
                        s.drum(u + k, [TOM_HI, TOM_HI, TOM_MID, TOM_LO][i], lvl + i * 4)
            else:
                s.drum(u + 0, HH, 60)
                s.drum(u + 2, HH, 55)
            # bass: driving eighths (syncopated push into the next bar in the chorus)
            if kind != "intro":
                for e in range(8):
                    key = root + (12 if (kind == "chorus" and e == 7) else 0)
                    s.note(0, u + e * 0.5, 0.45, key, lvl - 5 + (10 if e % 2 == 0 else 0),
                           jitter_s=0.004)
            # guitars
            pc = voicing(name if name.endswith("5") else parse_chord_to_power(name), 40)
            if kind in ("intro", "verse"):
                for e in range(8):  # palm-muted eighths
                    s.chord(1, u + e * 0.5, 0.3, pc, lvl - 10 + (14 if e in (0, 3, 6) else 0),
                            strum_s=0.006, jitter_s=0.004)
            elif kind == "chorus":
                for k, d in [(0, 1.5), (1.5, 1.0), (2.5, 1.5)]:
                    s.chord(1, u + k, d, pc + [pc[0] + 12], lvl + 5, strum_s=0.01)
                s.chord(2, u, 4, voicing(name, 52), lvl - 20, strum_s=0.012)
            else:  # bridge: ringing open chords
                s.chord(2, u, 2, voicing(name, 52), lvl, strum_s=0.02)
                s.chord(2, u + 2, 2, voicing(name, 52), lvl - 10, strum_s=0.02)
    s.drum(bars * 4, CRASH, 125)
    s.drum(bars * 4, KICK, 125)
    s.note(0, bars * 4, 2, 28, 120)
    s.chord(1, bars * 4, 2, voicing("E5", 40) + [52], 120, strum_s=0.01)
    s.end_s = s.tl(bars * 4 + 2)
    return s


def parse_chord_to_power(name: str) -> str:
    root = name[:2] if len(name) > 1 and name[1] in "#b" else name[:1]
    return root + "5"


def edm_128() -> Song:
    """128 bpm four-on-the-floor in A minor: groove, quiet breakdown from 15 s, loud drop at 30 s."""
    bars = 28
    s = new_song("edm_128", "edm", bpm=128, base_bpm=128, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 25, volume=115)         # TR-808 kit
    s.program(0, 38, volume=110)             # synth bass 1
    s.program(1, 81, volume=88, pan=50)      # saw lead
    s.program(2, 89, volume=100, pan=64, reverb=80)  # warm pad
    s.program(3, 90, volume=85, pan=80, reverb=60)   # polysynth (plucks / arps)
    prog = ["Am", "F", "C", "G"]
    at = chords_by_bar(prog, 4)
    hook = [(0, 0.75), (0.75, 0.75), (1.5, 0.5), (2, 1.0), (3, 0.5), (3.5, 0.5),
            (4, 0.75), (4.75, 0.75), (5.5, 0.5), (6, 1.5), (7.5, 0.5)]
    hook_notes = None
    for b in range(bars):
        u = b * 4
        name = prog[b % 4]
        root = bass_note(name, 33)
        if b < 8:                      # intro / groove (0-15 s)
            lvl = 88 if b < 4 else 100
            for q in range(4):
                s.drum(u + q, KICK, lvl + 10)
                s.drum(u + q + 0.5, HH_OPEN if b >= 4 else HH, lvl - 20)
            if b >= 2:
                s.drum(u + 1, CLAP, lvl)
                s.drum(u + 3, CLAP, lvl)
            if b >= 4:
                for e in range(8):
                    if e % 2 == 1 or e == 0:
                        s.note(0, u + e * 0.5, 0.4, root + (12 if e in (3, 7) else 0), lvl - 5)
                for e in range(0, 8, 2):
                    s.chord(3, u + e * 0.5 + 0.5, 0.3, voicing(name, 60), lvl - 30)
        elif b < 16:                   # breakdown (15-30 s): pad, soft arp; riser at the end
            lvl = 50
            s.chord(2, u, 4, voicing(name, 52), lvl + 5)
            s.note(2, u, 4, root - 12 + 12, lvl - 10)
            arp = voicing(name, 64) + [voicing(name, 64)[0] + 12]
            for e in range(8):
                s.note(3, u + e * 0.5, 0.4, arp[e % len(arp)], lvl - 10 + (b - 8) * 3)
            if b >= 14:                # snare roll crescendo, 8ths then 16ths
                step = 0.5 if b == 14 else 0.25
                for k in np.arange(0, 4, step):
                    s.drum(u + k, SNARE, 40 + ((b - 14) * 4 + k) * 10)
            if b == 15:
                s.cc_ramp(2, 11, u, u + 4, 127, 60)
        else:                          # drop (30 s on): everything, loud
            lvl = 118
            if b == 16:
                s.drum(u, CRASH, 127)
                s.cc_ramp(2, 11, u, u, 127, 127)
            for q in range(4):
                s.drum(u + q, KICK, lvl + 9)
                s.drum(u + q + 0.5, HH_OPEN, lvl - 20)
                s.drum(u + q + 0.25, HH, lvl - 45)
                s.drum(u + q + 0.75, HH, lvl - 45)
            s.drum(u + 1, CLAP, lvl)
            s.drum(u + 3, CLAP, lvl)
            s.drum(u + 1, SNARE, lvl - 10)
            s.drum(u + 3, SNARE, lvl - 10)
            for e in range(16):        # rolling off-beat bass
                if e % 4 != 0:
                    s.note(0, u + e * 0.25, 0.2, root + (12 if e % 4 == 2 else 0), lvl - 8)
            s.chord(2, u, 4, voicing(name, 52), lvl - 35)
            for e in range(8):         # supersaw stabs
                if e in (0, 3, 6):
                    s.chord(3, u + e * 0.5, 0.35, voicing(name, 60), lvl - 15)
            if b % 2 == 0:             # the hook, 2 bars, same notes each time
                if hook_notes is None:
                    before = len(s.notes)
                    melody(s, 1, u, hook, at, 9, MINOR, 69, 84, lvl - 12, jitter_s=0.0)
                    hook_notes = [(n[0] - s.tl(u), n[1] - s.tl(u), n[3], n[4]) for n in s.notes[before:]]
                else:
                    for t0, t1, key, vel in hook_notes:
                        s.notes.append((s.tl(u) + t0, s.tl(u) + t1, 1, key, vel))
    s.drum(bars * 4, CRASH, 120)
    s.drum(bars * 4, KICK, 120)
    s.chord(2, bars * 4, 3, voicing("Am", 52), 90)
    s.end_s = s.tl(bars * 4 + 3)
    return s


def piano_ballad_66() -> Song:
    """Solo piano, 4/4 around 66 bpm, tempo drifting within ±8 %, ritardandi, timing jitter."""
    bars = 14
    rng = np.random.default_rng(661)
    freqs = rng.uniform(0.02, 0.09, 4)   # cycles per beat
    phases = rng.uniform(0, 2 * np.pi, 4)

    def bpm(u):
        u = np.asarray(u, float)
        drift = sum(np.sin(2 * np.pi * f * u + p) for f, p in zip(freqs, phases)) / 4 * 0.07 / 0.6
        drift = np.clip(drift, -0.07, 0.07)
        # phrase-end ritardando over the last beat of every 4th bar, final ritardando
        x = np.mod(u, 16.0)
        drift = drift - 0.05 * np.clip((x - 15.0), 0, 1)
        drift = drift - 0.02 * np.clip((u - 52.0) / 4.0, 0, 1)
        drift = np.clip(drift, -0.08, 0.08)
        # last bar broadens further (a final ritardando, beyond the drift band)
        drift = drift - 0.12 * np.clip(u - 52.0, 0, 4) / 4
        return 66.0 * (1.0 + drift)

    s = new_song("piano_ballad_66", "ballad", bpm=bpm, base_bpm=66, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(0, 0, volume=110, reverb=70)
    prog = ["C", "G", "Am", "Em", "F", "C", "Dm7", "G",
            "C", "Em", "Am", "F", "Dm7", "G"]
    # a dynamic arc: soft, swelling to the climax at bars 9-11, then falling away
    arc = [45, 50, 55, 55, 60, 65, 70, 72, 80, 90, 95, 85, 65, 50]
    last = 72
    for b in range(bars):
        u = b * 4
        name = prog[b]
        lvl = arc[b]
        at = lambda uu, n=name: chord_pcs(n)
        bass = bass_note(name, 36)
        tones = voicing(name, 48)
        lh = [bass, bass + 7, tones[1] + 12 if len(tones) > 1 else bass + 12, bass + 7 + 12,
              tones[-1] + 12, bass + 7 + 12, tones[1] + 12, bass + 7]
        for e in range(8):             # arpeggiated left hand in eighths (sustain-like overlap)
            s.note(0, u + e * 0.5, 1.2 if e % 2 == 0 else 0.9, lh[e], lvl - 15 + (8 if e == 0 else 0)
                   + s.rng.normal(0, 3), jitter_s=0.018)
        if b == bars - 1:
            s.chord(0, u, 4, voicing("C", 60) + [36, 48], lvl + 5, strum_s=0.03, jitter_s=0.01)
            continue
        rhythms = [[(0, 1.5), (1.5, 0.5), (2, 1), (3, 1)],
                   [(0, 1), (1, 1), (2, 2)],
                   [(0.5, 0.5), (1, 1), (2, 1.5), (3.5, 0.5)],
                   [(0, 3), (3, 0.5), (3.5, 0.5)]]
        r = rhythms[(b + (b // 4)) % 4]
        last = melody(s, 0, u, r, at, 0, MAJOR, 64, 84, lvl + 10, start=last, jitter_s=0.02,
                      contour=1.0 if b in (6, 7, 8) else -1.0 if b > 10 else 0.0)
    s.end_s = s.tl(bars * 4) + 3.0
    return s


def waltz_90() -> Song:
    """3/4 at 90 bpm in G: oom-pah-pah (tuba/pizzicato), strings, a flute and violin tune."""
    bars = 26
    s = new_song("waltz_90", "waltz", bpm=90, base_bpm=90, meter="3/4", bar_units=3,
                 bar_beats=[0, 1, 2], n_bars=bars)
    s.program(0, 58, volume=100)              # tuba
    s.program(1, 45, volume=95, pan=50)       # pizzicato strings
    s.program(2, 73, volume=95, pan=80, reverb=60)  # flute
    s.program(3, 40, volume=92, pan=40, reverb=60)  # violin
    s.program(4, 48, volume=70, reverb=70)    # strings pad
    s.program(DRUMS, 48, volume=80)           # orchestra kit
    prog = ["G", "G", "D7", "D7", "D7", "D7", "G", "G", "C", "C", "G", "Em", "Am", "D7", "G", "G"]
    at = chords_by_bar(prog, 3)
    phrase_lvls = [70, 80, 95, 75, 60, 90, 105]
    for b in range(bars):
        u = b * 3
        name = prog[b % 16]
        lvl = phrase_lvls[min(b // 4, len(phrase_lvls) - 1)] + (6 if b % 2 == 0 else -4)
        s.note(0, u, 0.9, bass_note(name, 31) + (7 if b % 2 else 0), lvl + 5, jitter_s=0.006)
        for q in (1, 2):
            s.chord(1, u + q, 0.5, voicing(name, 55), lvl - 12 - 3 * q, jitter_s=0.006)
        if b >= 4:
            s.chord(4, u, 3, voicing(name, 60), lvl - 30)
        if b % 8 == 0 and b > 0:
            s.drum(u, 57, lvl)  # crash (orchestral cymbal)
        s.drum(u, 41, lvl - 20)  # low floor tom as bass drum colour
        if b >= 2 and b % 2 == 0:
            ch = 2 if (b // 8) % 2 == 0 else 3
            r = [(0, 1.5), (1.5, 0.5), (2, 1), (3, 1), (4, 1), (5, 1)] if b % 4 == 2 else \
                [(0, 1), (1, 0.5), (1.5, 0.5), (2, 1), (3, 2), (5, 1)]
            melody(s, ch, u, r, at, 7, MAJOR, 67, 88, lvl, jitter_s=0.01)
    s.note(0, bars * 3, 2, 31, 100)
    s.chord(4, bars * 3, 2.5, voicing("G", 55), 90)
    s.chord(1, bars * 3, 1, voicing("G", 55), 100)
    s.end_s = s.tl(bars * 3 + 2.5)
    return s


def folk_7_8_140() -> Song:
    """7/8 (2+2+3) at 140 eighths per minute in D phrygian-ish: clarinet, accordion, hand drums.
    Beats are the group starts (eighths 0, 2, 4 of each bar)."""
    bars = 17
    s = new_song("folk_7_8_140", "folk", bpm=140, base_bpm=140, meter="7/8 (2+2+3)",
                 bar_units=7, bar_beats=[0, 2, 4], n_bars=bars)
    s.program(0, 32, volume=100)                # acoustic bass
    s.program(1, 21, volume=85, pan=45)         # accordion
    s.program(2, 71, volume=100, pan=80, reverb=50)  # clarinet
    s.program(3, 110, volume=90, pan=30, reverb=50)  # fiddle
    s.program(DRUMS, 0, volume=105)
    prog = ["Dm", "Dm", "C", "Dm", "Gm", "Dm", "A7", "Dm"]
    at = chords_by_bar(prog, 7)
    for b in range(bars):
        u = b * 7
        name = prog[b % 8]
        lvl = [70, 85, 100, 90, 110, 120][min(b // 3, 5)]
        # drums: doum on group starts, tek on the rest, accents shape 2+2+3
        for e in range(7):
            if e in (0, 4):
                s.drum(u + e, CONGA_LO, lvl + 5)
                s.drum(u + e, KICK2, lvl - 10)
            elif e == 2:
                s.drum(u + e, CONGA_HI, lvl)
            else:
                s.drum(u + e, BONGO_HI, lvl - 25)
            if b >= 6:
                s.drum(u + e, TAMB, lvl - 30 + (15 if e in (0, 2, 4) else 0))
        # bass on the three beats
        bn = bass_note(name, 38)
        for e, off in ((0, 0), (2, 7), (4, 12)):
            s.note(0, u + e, 1.8, bn + off if off != 12 else bn, lvl, jitter_s=0.006)
        # accordion: chords on group starts
        for e, d in ((0, 1.8), (2, 1.8), (4, 2.8)):
            s.chord(1, u + e, d, voicing(name, 57), lvl - 20 + (8 if e == 0 else 0))
        if b >= 1:
            ch = 2 if (b // 4) % 2 == 0 else 3
            r = [(0, 1), (1, 1), (2, 0.5), (2.5, 0.5), (3, 1), (4, 1.5), (5.5, 0.5), (6, 1)] \
                if b % 2 else [(0, 2), (2, 1), (3, 1), (4, 3)]
            melody(s, ch, u, r, at, 2, HARM_MINOR, 62, 86, lvl - 5, jitter_s=0.01)
    s.note(0, bars * 7, 4, 38, 115)
    s.chord(1, bars * 7, 4, voicing("Dm", 57), 110)
    s.drum(bars * 7, CONGA_LO, 120)
    s.end_s = s.tl(bars * 7 + 4)
    return s


def polka_120() -> Song:
    """Fast 2/4 polka at 120 bpm in F: tuba oom on the beats, off-beat chords, accordion tune."""
    bars = 52
    s = new_song("polka_120", "polka", bpm=120, base_bpm=120, meter="2/4", bar_units=2,
                 bar_beats=[0, 1], n_bars=bars)
    s.program(0, 58, volume=105)               # tuba
    s.program(1, 21, volume=90, pan=40)        # accordion
    s.program(2, 56, volume=88, pan=85)        # trumpet
    s.program(3, 71, volume=85, pan=60)        # clarinet
    s.program(DRUMS, 0, volume=100)
    prog = ["F", "F", "C7", "C7", "C7", "C7", "F", "F", "Bb", "Bb", "F", "F", "C7", "C7", "F", "F"]
    at = chords_by_bar(prog, 2)
    for b in range(bars):
        u = b * 2
        name = prog[b % 16]
        section = b // 16
        lvl = [80, 100, 70, 115][min(section, 3)] + (5 if b % 2 == 0 else 0)
        root = bass_note(name, 29)
        s.note(0, u, 0.45, root, lvl + 12)
        s.note(0, u + 1, 0.45, root + 7 if root + 7 < 48 else root - 5, lvl + 5)
        s.chord(1, u + 0.5, 0.3, voicing(name, 60), lvl - 18)
        s.chord(1, u + 1.5, 0.3, voicing(name, 60), lvl - 22)
        s.drum(u, KICK, lvl + 10)
        s.drum(u + 1, KICK, lvl + 2)
        s.drum(u + 0.5, SNARE, lvl - 25)
        s.drum(u + 1.5, SNARE, lvl - 28)
        if section != 2:
            s.drum(u + 0.5, HH, lvl - 30)
            s.drum(u + 1.5, HH, lvl - 30)
        if b % 16 == 0:
            s.drum(u, CRASH, lvl + 10)
        ch = [1, 2, 3, 2][min(section, 3)]
        if b % 2 == 0:
            r = [(0, 0.25), (0.25, 0.25), (0.5, 0.25), (0.75, 0.25), (1, 0.5), (1.5, 0.5),
                 (2, 0.5), (2.5, 0.5), (3, 0.5), (3.5, 0.25), (3.75, 0.25)] if b % 4 == 0 else \
                [(0, 0.5), (0.5, 0.5), (1, 0.25), (1.25, 0.25), (1.5, 0.5), (2, 1), (3, 0.5), (3.5, 0.5)]
            melody(s, ch, u, r, at, 5, MAJOR, 65, 89, lvl + 2, jitter_s=0.005)
    s.note(0, bars * 2, 1, 29, 120)
    s.chord(1, bars * 2, 1, voicing("F", 60), 120)
    s.drum(bars * 2, CRASH, 120)
    s.end_s = s.tl(bars * 2 + 2)
    return s


def swing_trio_150() -> Song:
    """Jazz trio, 4/4 at 150 bpm, swung eighths (2:1): ride and hi-hat, walking bass, piano
    comping and a piano line over ii-V-I changes in Bb."""
    bars = 32
    s = new_song("swing_trio_150", "swing", bpm=150, base_bpm=150, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 32, volume=100)   # jazz kit
    s.program(0, 32, volume=115)       # acoustic bass
    s.program(1, 0, volume=100, pan=75, reverb=45)   # piano

    def sw(u: float) -> float:
        f = u - np.floor(u)
        return np.floor(u) + (2.0 / 3.0 if abs(f - 0.5) < 1e-6 else f)

    prog = ["Cm7", "F7", "Bbmaj7", "Ebmaj7", "Am7b5", "D7", "Gm7", "G7",
            "Cm7", "F7", "Bbmaj7", "Gm7", "Cm7", "F7", "Bbmaj7", "Bbmaj7"]
    at = chords_by_bar(prog, 4)
    scale_of = {"Cm7": DORIAN, "F7": MIXO, "Bbmaj7": MAJOR, "Ebmaj7": MAJOR, "Am7b5": MINOR,
                "D7": HARM_MINOR, "Gm7": DORIAN, "G7": MIXO}
    prev_bass = 34
    for b in range(bars):
        u = b * 4
        name = prog[b % 16]
        nxt = prog[(b + 1) % 16]
        lvl = [75, 88, 100, 85][b // 8]
        # drums: ride "ding ding-a ding ding-a", hi-hat foot on 2 and 4, feathered kick
        for q in range(4):
            s.drum(u + q, RIDE, lvl - 5 + (6 if q % 2 else 0))
            if q % 2 == 1:
                s.drum(sw(u + q + 0.5), RIDE, lvl - 18)
                s.drum(u + q, HH_PEDAL, lvl - 15)
            s.drum(u + q, KICK, 40)
        if b % 4 == 3:
            s.drum(sw(u + 3.5), SNARE, lvl - 10)
        if b % 8 == 7:
            s.drum(u + 3, SNARE, lvl)
            if b < bars - 1:
                s.drum(u + 4, CRASH, lvl + 5)
        # walking bass: root, chord tone, chord tone, chromatic approach to the next root
        r = bass_note(name, 33)
        tones = sorted(chord_pcs(name) - {r % 12})
        t1 = r + ((tones[0] - r) % 12)
        t2 = r + ((tones[1] - r) % 12) if len(tones) > 1 else r + 7
        target = bass_note(nxt, 33)
        approach = target + (1 if s.rng.random() < 0.5 else -1)
        line = [r, t1, t2, approach]
        if abs(line[0] - prev_bass) > 9:
            line[0] = line[0] + (12 if line[0] < prev_bass else -12) if 28 <= line[0] + 12 <= 52 else line[0]
        for q, k in enumerate(line):
            s.note(0, u + q, 0.9, int(np.clip(k, 28, 52)), lvl + 10 + (6 if q == 0 else 0), jitter_s=0.006)
        prev_bass = line[-1]
        # piano comping: Charleston (1 and the and of 2), rootless voicing
        v = voicing(name, 53, skip_root=True)
        s.chord(1, u, 0.8, v, lvl - 15, jitter_s=0.008)
        s.chord(1, sw(u + 1.5), 0.5, v, lvl - 10, jitter_s=0.008)
        if b % 2 == 1:
            s.chord(1, sw(u + 3.5), 0.5, v, lvl - 18, jitter_s=0.008)
        # piano line: swung eighths and quarters
        rhythms = [[(0, 1), (1, 0.5), (1.5, 0.5), (2, 0.5), (2.5, 0.5), (3, 1)],
                   [(0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 1.5), (3.5, 0.5)],
                   [(0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 0.5), (2.5, 0.5), (3, 0.5), (3.5, 0.5)],
                   [(0, 2), (2.5, 0.5), (3, 0.5), (3.5, 0.5)]]
        r_ = rhythms[b % 4] if b >= 2 else []
        root_pc, _ = parse_chord(name)
        if r_:
            swung = [(sw(u + x) - u, d * 0.9) for x, d in r_]
            melody(s, 1, u, swung, at, root_pc, scale_of[name], 65, 86, lvl, jitter_s=0.008)
    s.note(0, bars * 4, 3, 34, 110)
    s.chord(1, bars * 4, 3, voicing("Bbmaj7", 53) + [46], 100, strum_s=0.02)
    s.drum(bars * 4, CRASH, 110)
    s.end_s = s.tl(bars * 4 + 3)
    return s


def hiphop_90() -> Song:
    """Boom-bap at 90 bpm in F minor: 808 kick and heavy sub bass, snare on 2 and 4, swung
    sixteenth hats, electric piano chords."""
    bars = 20
    s = new_song("hiphop_90", "hiphop", bpm=90, base_bpm=90, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 25, volume=120)        # TR-808
    s.program(0, 39, volume=127)            # synth bass 2 (the heavy one)
    s.program(1, 4, volume=95, pan=50, reverb=50, chorus=60)   # electric piano
    s.program(2, 89, volume=70, reverb=70)  # pad
    s.program(3, 11, volume=85, pan=85, reverb=60)  # vibraphone riff

    def sw16(u: float) -> float:  # light 16th swing
        f = (u * 4) % 2
        return u + (0.04 if abs(f - 1) < 1e-6 else 0.0)

    prog = ["Fm7", "Fm7", "Dbmaj7", "C7"]
    at = chords_by_bar(prog, 4)
    kick_pats = [[0, 0.75, 2.5], [0, 1.75, 2.25, 2.5], [0, 0.75, 2.5, 3.5], [0, 2, 2.75]]
    for b in range(bars):
        u = b * 4
        name = prog[b % 4]
        full = 2 <= b < 10 or b >= 12
        lvl = 100 if full else 70
        if b >= 16:
            lvl = 110
        if full:
            for k in kick_pats[b % 4]:
                s.drum(u + k, KICK, lvl + 15)
            s.drum(u + 1, SNARE, lvl + 10)
            s.drum(u + 3, SNARE, lvl + 10)
            s.drum(u + 1, CLAP, lvl - 10)
            s.drum(u + 3, CLAP, lvl - 10)
            for e in range(16):
                v = lvl - 35 + (15 if e % 4 == 0 else 5 if e % 2 == 0 else 0)
                s.drum(sw16(u + e * 0.25), HH, v)
            if b % 4 == 3:
                s.drum(sw16(u + 3.5), HH_OPEN, lvl - 20)
            # heavy bass: long sub notes following the kick
            root = bass_note(name, 29)
            ks = kick_pats[b % 4]
            for i, k in enumerate(ks):
                d = (ks[i + 1] if i + 1 < len(ks) else 4) - k
                s.note(0, u + k, d * 0.95, root + (12 if (i == len(ks) - 1 and b % 2) else 0),
                       lvl + 10)
        else:
            s.drum(u, KICK, 60)
            for e in range(8):
                s.drum(u + e * 0.5, HH, 45)
        # electric piano: chord on 1, a push on the "a" of 2
        s.chord(1, u, 1.5, voicing(name, 56), lvl - 20, strum_s=0.01)
        s.chord(1, u + 1.75, 1.5, voicing(name, 56), lvl - 28, strum_s=0.01)
        s.chord(2, u, 4, voicing(name, 48), lvl - 40)
        if b >= 4 and b % 2 == 0:
            r = [(0.5, 0.5), (1, 0.25), (1.5, 0.5), (2.75, 0.25), (3, 1)]
            melody(s, 3, u, r, at, 5, MINOR, 68, 84, lvl - 15, jitter_s=0.008)
    s.drum(bars * 4, KICK, 120)
    s.note(0, bars * 4, 2, bass_note("Fm7", 29), 120)
    s.chord(1, bars * 4, 2, voicing("Fm7", 56), 90)
    s.end_s = s.tl(bars * 4 + 2.5)
    return s


def funk_105() -> Song:
    """Funk, 4/4 at 105 bpm in E: syncopated kick, snare with ghost notes, sixteenth hats,
    slap bass, clavinet, brass stabs in the chorus."""
    bars = 22
    s = new_song("funk_105", "funk", bpm=105, base_bpm=105, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 0, volume=110)
    s.program(0, 36, volume=110)             # slap bass 1
    s.program(1, 7, volume=85, pan=35)       # clavinet
    s.program(2, 61, volume=95, pan=90, reverb=40)  # brass section
    s.program(3, 27, volume=80, pan=70)      # clean guitar
    kick = [0, 0.75, 1.5, 2.5, 2.75]
    bass_line = [(0, 0, 0.25), (0.5, 12, 0.2), (0.75, 0, 0.2), (1.5, 10, 0.25), (1.75, 12, 0.2),
                 (2.5, 0, 0.25), (2.75, 3, 0.2), (3, 5, 0.2), (3.25, 7, 0.2), (3.75, 10, 0.2)]
    clav = [0.25, 0.75, 1.0, 1.5, 2.25, 2.75, 3.5]
    for b in range(bars):
        u = b * 4
        chorus = 8 <= b < 12 or b >= 16
        name = "A9" if chorus and b % 2 == 0 else "E9"
        lvl = 100 if chorus else 80
        if b >= 16:
            lvl = 112
        if b in (12, 13, 14, 15):   # breakdown: bass and drums only, quieter
            lvl = 70
        # drums
        for e in range(16):
            s.drum(u + e * 0.25, HH if not (chorus and e % 8 == 6) else HH_OPEN,
                   lvl - 30 + (18 if e % 4 == 0 else 8 if e % 2 == 0 else 0))
        for k in kick:
            s.drum(u + k, KICK, lvl + 5 - (10 if k % 1 else 0))
        s.drum(u + 1, SNARE, lvl + 15)
        s.drum(u + 3, SNARE, lvl + 15)
        for g in (1.75, 2.25, 3.75):
            s.drum(u + g, SNARE, 38)   # ghost notes
        if b % 4 == 0:
            s.drum(u, CRASH, lvl)
        # slap bass
        root = bass_note(name, 28)
        for k, iv, d in bass_line:
            s.note(0, u + k, d, root + iv, lvl + (15 if k == 0 else 0) + s.rng.normal(0, 5),
                   jitter_s=0.004)
        if b in (12, 13, 14, 15):
            continue
        # clavinet chanks
        v = voicing(name, 58)
        for k in clav:
            s.chord(1, u + k, 0.15, v, lvl - 10 + (10 if k in (0.75, 2.75) else 0))
        # guitar scratch on 16ths, accent on the "e" of 2 and 4
        for e in range(16):
            if e % 2 == 1:
                s.chord(3, u + e * 0.25, 0.1, voicing(name, 64)[:3], lvl - 30 + (20 if e in (5, 13) else 0))
        if chorus:                    # brass stabs
            for k, d in ((0, 0.25), (1.75, 0.5), (3.5, 0.4)):
                s.chord(2, u + k, d, voicing(name, 62)[:4], lvl + 5)
    s.drum(bars * 4, CRASH, 120)
    s.drum(bars * 4, KICK, 120)
    s.note(0, bars * 4, 1.5, 28, 120)
    s.chord(2, bars * 4, 1.5, voicing("E9", 62)[:4], 120)
    s.end_s = s.tl(bars * 4 + 2.5)
    return s


def crescendo_96() -> Song:
    """Orchestral, 4/4 at 96 bpm in D minor, growing from pp to ff over 50 s: string ostinato
    from the start, cellos, horns, timpani, brass and cymbals join; velocity and expression ramp."""
    bars = 21
    s = new_song("crescendo_96", "crescendo", bpm=96, base_bpm=96, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(0, 48, volume=110, reverb=70)       # strings ensemble (ostinato)
    s.program(1, 42, volume=110, pan=45, reverb=70)  # cello
    s.program(2, 60, volume=100, pan=80, reverb=70)  # french horn
    s.program(3, 47, volume=110, reverb=60)       # timpani
    s.program(4, 61, volume=105, pan=70, reverb=60)  # brass section
    s.program(DRUMS, 48, volume=110)              # orchestra kit (cymbals, bass drum)
    prog = ["Dm", "Bb", "Gm", "A7"]
    total = bars * 4
    for ch in (0, 1, 2, 4):
        s.cc_ramp(ch, 11, 0, 80, 95, 127, step=0.5)
    for b in range(bars):
        u = b * 4
        name = prog[b % 4]
        x = min(u / 80.0, 1.0)            # 0 -> 1 over 20 bars = 50 s
        vel = 42 + 85 * x ** 1.2
        # string ostinato: eighths, accent on beats
        tones = voicing(name, 57)
        pat = [tones[0], tones[1 % len(tones)], tones[2 % len(tones)], tones[1 % len(tones)]] * 2
        for e in range(8):
            s.note(0, u + e * 0.5, 0.45, pat[e] + (12 if x > 0.5 and e % 4 == 2 else 0),
                   vel - (0 if e % 2 == 0 else 8), jitter_s=0.005)
        # cellos: half notes, from bar 3
        if b >= 3:
            for h in (0, 2):
                s.note(1, u + h, 1.9, bass_note(name, 38), vel - 5)
        # horns: sustained chords, from bar 7
        if b >= 7:
            s.chord(2, u, 4, voicing(name, 53), vel - 10)
        # timpani: beat 1 from bar 5, then every beat, then rolls
        if b >= 5:
            beats = [0] if b < 10 else [0, 2] if b < 14 else [0, 1, 2, 3]
            for q in beats:
                s.note(3, u + q, 0.5, bass_note(name, 38) if name != "A7" else 45, vel)
            if b >= 17:
                for k in np.arange(3, 4, 0.125):
                    s.note(3, u + k, 0.1, 45, vel - 20 + (k - 3) * 40)
        # brass: marcato on beats 1 and 3, from bar 12
        if b >= 12:
            for q in (0, 2):
                s.chord(4, u + q, 1.5, voicing(name, 58), vel)
        # cymbals and bass drum from bar 14
        if b >= 14:
            s.drum(u, 57 if b % 2 else CRASH, vel - 10)
            s.drum(u + 2, KICK, vel - 5)
            s.drum(u, KICK, vel)
    s.note(3, total, 2, 38, 127)
    s.chord(4, total, 3, voicing("D", 58), 127)
    s.chord(0, total, 3, voicing("D", 50) + [74], 127)
    s.drum(total, CRASH, 127)
    s.drum(total, KICK, 127)
    s.end_s = s.tl(total + 3)
    return s


def calm_pad_54() -> Song:
    """Calm strings and pads, 4/4 at 54 bpm in Eb: slow strings, a warm pad, a soft harp pulse on
    every beat and a low bass note on each downbeat."""
    bars = 12
    s = new_song("calm_pad_54", "ambient", bpm=54, base_bpm=54, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(0, 49, volume=100, reverb=100)   # slow strings
    s.program(1, 89, volume=95, reverb=100)    # warm pad
    s.program(2, 46, volume=95, pan=80, reverb=90)  # harp
    s.program(3, 32, volume=90, reverb=60)     # acoustic bass
    s.program(4, 71, volume=75, pan=40, reverb=100)  # clarinet (a few long notes)
    prog = ["Ebmaj7", "Cm7", "Abmaj7", "Bb", "Ebmaj7", "Gm7", "Abmaj7", "Bb",
            "Cm7", "Abmaj7", "Bb", "Ebmaj7"]
    lvls = [45, 50, 55, 60, 65, 70, 72, 68, 60, 55, 50, 45]
    at = chords_by_bar(prog, 4)
    for b in range(bars):
        u = b * 4
        name = prog[b]
        lvl = lvls[b]
        s.chord(0, u, 4.1, voicing(name, 55), lvl)
        s.chord(1, u, 4.1, voicing(name, 48), lvl - 10)
        s.note(3, u, 3.5, bass_note(name, 31), lvl + 10)
        arp = voicing(name, 67)
        for q in range(4):
            s.note(2, u + q, 1.5, arp[q % len(arp)], lvl - 5 + (12 if q == 0 else 0), jitter_s=0.005)
        if 4 <= b < 10 and b % 2 == 0:
            melody(s, 4, u, [(0, 3), (3, 1), (4, 4)], at, 3, MAJOR, 63, 79, lvl, jitter_s=0.01)
    s.chord(0, bars * 4, 4, voicing("Ebmaj7", 55), 40)
    s.note(3, bars * 4, 4, 39, 45)
    s.end_s = s.tl(bars * 4 + 3)
    return s


def bossa_130() -> Song:
    """Bossa nova, 4/4 at 130 bpm in F: nylon guitar (thumbed bass on 1 and 3, syncopated
    chords), acoustic bass, side-stick clave, shaker, a flute tune."""
    bars = 28
    s = new_song("bossa_130", "bossa", bpm=130, base_bpm=130, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(0, 24, volume=105, pan=55, reverb=50)  # nylon guitar
    s.program(1, 32, volume=105)                     # acoustic bass
    s.program(2, 73, volume=95, pan=80, reverb=60)   # flute
    s.program(3, 0, volume=70, pan=30, reverb=50)    # piano, soft
    s.program(DRUMS, 40, volume=100)                 # brush kit
    prog = ["Fmaj7", "Fmaj7", "G7", "G7", "Gm7", "C7", "Fmaj7", "C7",
            "Fmaj7", "Fmaj7", "G7", "G7", "Gm7", "C7", "Fmaj7", "Fmaj7"]
    at = chords_by_bar(prog, 4)
    # bossa clave over two bars (in quarter units)
    clave = [0, 1.5, 3, 5, 6.5]
    comp = [(0.5, 0.4), (1.5, 0.6), (2.5, 0.4), (3.25, 0.5)]  # alternating bars vary
    comp2 = [(0.5, 0.4), (1.25, 0.4), (2.5, 0.4), (3.5, 0.4)]
    for b in range(bars):
        u = b * 4
        name = prog[b % 16]
        lvl = [70, 85, 95, 80][min(b // 7, 3)]
        r = bass_note(name, 29)
        # bass: dotted quarter + eighth on 1 and 3 (root, fifth)
        for q, iv in ((0, 0), (1.5, 7), (2, 7), (3.5, 0)):
            s.note(1, u + q, 1.4 if q in (0, 2) else 0.45, r + iv, lvl + (8 if q in (0, 2) else -5),
                   jitter_s=0.005)
        # guitar: thumb on 1 and 3, chords syncopated
        s.note(0, u, 1.0, r + 12, lvl - 5)
        s.note(0, u + 2, 1.0, r + 19 if r + 19 <= 55 else r + 7, lvl - 8)
        for k, d in (comp if b % 2 == 0 else comp2):
            s.chord(0, u + k, d, voicing(name, 57, skip_root=True), lvl - 8 + (6 if k == 0.5 else 0),
                    strum_s=0.008, jitter_s=0.005)
        # percussion
        for k in clave:
            if (b % 2) * 4 <= k < (b % 2) * 4 + 4:
                s.drum(u + k - (b % 2) * 4, STICK, lvl - 5)
        for e in range(8):
            s.drum(u + e * 0.5, SHAKER, lvl - 30 + (12 if e % 2 == 0 else 0))
        s.drum(u, KICK, lvl - 15)
        s.drum(u + 2, KICK, lvl - 20)
        for e in range(16):
            if b >= 14:
                s.drum(u + e * 0.25, HH, lvl - 45 + (8 if e % 4 == 0 else 0))
        # flute tune from bar 4, piano doubling chords in the second half
        if b >= 4 and b % 2 == 0:
            rr = [(0, 1.5), (1.5, 0.5), (2, 1.5), (3.5, 1), (4.5, 1), (5.5, 0.5), (6, 2)]
            melody(s, 2, u, rr, at, 5, MAJOR, 65, 86, lvl + 5, jitter_s=0.01)
        if b >= 16:
            s.chord(3, u + 2.5, 1.0, voicing(name, 60), lvl - 20)
    s.note(1, bars * 4, 3, 29, 100)
    s.chord(0, bars * 4, 3, voicing("Fmaj7", 52) + [41], 95, strum_s=0.05)
    s.end_s = s.tl(bars * 4 + 3)
    return s


# ------------------------------------------------------------------------------------------------
# The unseen split: written after DEV and HOLDOUT had been looked at; nobody tunes on these
# ------------------------------------------------------------------------------------------------

def reggae_76() -> Song:
    """Reggae, 4/4 at 76 bpm in G minor."""
    bars = 16
    s = new_song("reggae_76", "reggae", bpm=76, base_bpm=76, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 8, volume=105)                  # room kit
    s.program(0, 33, volume=120)                     # fingered bass
    s.program(1, 28, volume=90, pan=90, reverb=60)   # muted guitar (skank)
    s.program(2, 17, volume=75, pan=35, reverb=50)   # percussive organ (bubble)
    s.program(3, 22, volume=90, pan=60, reverb=70)   # harmonica (verse line)
    s.program(4, 65, volume=95, pan=70, reverb=70)   # alto sax (chorus line)
    verse = ["Gm", "Cm", "Gm", "D7"]
    chorus = ["Eb", "F", "Gm", "Gm"]
    sw = (0.0, 0.07)
    bass_line = [(0.5, 0.45, 0), (1.0, 0.7, 7), (2.0, 0.45, 12), (2.5, 0.25, 10), (3.0, 0.45, 7),
                 (3.5, 0.4, 3)]
    for b in range(bars):
        u = b * 4
        kind = "intro" if b < 2 else "verse" if b < 8 else "chorus" if b < 12 else \
            "dub" if b == 12 else "chorus"
        prog = chorus if kind == "chorus" else verse
        name = prog[b % 4]
        lvl = {"intro": 75, "verse": 85, "chorus": 100, "dub": 70}[kind] + (8 if b >= 13 else 0)
        at = chords_by_bar([name], 1)     # this bar's chord throughout
        # drums: one drop (kick and cross-stick together on 3), rockers kick in the chorus
        if kind != "dub" and b != 0:
            for e in range(8):
                s.drum(feel(u + e * 0.5, sw, 0.5), HH, lvl - 30 + (12 if e % 2 == 0 else 0), jitter_s=0.006)
            s.drum(u + 2, KICK, lvl + 10)
            s.drum(u + 2, STICK, lvl + 5)
            if kind == "chorus":
                s.drum(u, KICK, lvl)
                s.drum(feel(u + 3.5, sw, 0.5), HH_OPEN, lvl - 20)
        elif kind == "dub":
            s.drum(u + 2, KICK, lvl + 15)
        if b in (1, 7, 11, 15):                      # triplet tom fill into the next section
            for i, k in enumerate(np.arange(3, 4, 1 / 6)):
                s.drum(u + k, [SNARE, SNARE, TOM_HI, TOM_MID, TOM_LO, TOM_LO][i], lvl - 10 + 4 * i)
        if b in (2, 8, 13):
            s.drum(u, CRASH, lvl)
        # bass, a touch behind the beat
        root = bass_note(name, 31)
        if b >= 2:
            for k, d, iv in bass_line:
                key = root + iv - (12 if root + iv > 50 else 0)
                s.note(0, feel(u + k, sw, 0.5), d, key, lvl + 10, jitter_s=0.006, shift_s=0.012)
        # skank on 2 and 4; organ bubble on the off-beats
        if kind != "dub":
            for q in (1, 3):
                s.chord(1, u + q, 0.15, voicing(name, 62)[:3], lvl - 5, strum_s=0.004, jitter_s=0.004)
            if b >= 2:
                for e in (1, 3, 5, 7):
                    s.chord(2, feel(u + e * 0.5, sw, 0.5), 0.2, voicing(name, 55), lvl - 25)
        else:
            s.chord(1, u + 1, 0.15, voicing(name, 62)[:3], lvl)
            s.cc_ramp(1, 91, u + 1, u + 4, 60, 127)
            s.cc_ramp(1, 91, u + 4, u + 4, 60, 60)
        # lines: harmonica answers in the verse, sax in the chorus
        if kind == "verse" and b % 2 == 1:
            r = [(0.5, 0.5), (1, 0.5), (1.5, 1.0), (2.5, 0.5), (3, 1.0)]
            melody(s, 3, u, [(feel(u + x, sw, 0.5) - u, d) for x, d in r], at, 7, MINOR, 62, 79, lvl - 10,
                   jitter_s=0.015)
        if kind == "chorus":
            r = [(0, 1.5), (1.5, 0.5), (2, 1.0), (3, 1.0)] if b % 2 == 0 else [(0, 0.5), (0.5, 1.0), (2, 2.0)]
            melody(s, 4, u, r, at, 7, MINOR, 62, 81, lvl - 5, jitter_s=0.012, contour=1.0 if b % 4 < 2 else -1.0)
    s.drum(bars * 4, KICK, 110)
    s.drum(bars * 4, CRASH, 100)
    s.note(0, bars * 4, 2, 31, 115)
    s.chord(2, bars * 4, 2, voicing("Gm", 55), 90)
    s.end_s = s.tl(bars * 4 + 2.5)
    return s


def shuffle_12_8_66() -> Song:
    """Blues in 12/8 around 66 dotted-quarter beats per minute, in A. Written in eighths; the
    beats are the dotted quarters (eighths 0, 3, 6, 9)."""
    bars = 14
    s = new_song("shuffle_12_8_66", "blues", bpm=lambda u: 198.0 * (1 + 0.045 * np.clip(u / 168.0, 0, 1)),
                 base_bpm=66, meter="12/8", bar_units=12, bar_beats=[0, 3, 6, 9], n_bars=bars)
    s.program(DRUMS, 0, volume=100)
    s.program(0, 33, volume=115)                     # fingered bass
    s.program(1, 0, volume=90, pan=40, reverb=45)    # piano
    s.program(2, 29, volume=85, pan=85, reverb=55)   # overdriven guitar
    s.program(3, 22, volume=95, pan=60, reverb=60)   # harmonica
    twelve = ["A7", "D7", "A7", "A7", "D7", "D7", "A7", "A7", "E7", "D7", "A7", "E7"]
    prog = ["A7", "E7"] + twelve
    boogie = [(0, 0), (2, 4), (3, 7), (5, 9), (6, 10), (8, 9), (9, 7), (11, 4)]
    for b in range(bars):
        u = b * 12
        name = prog[b]
        at = chords_by_bar([name], 1)     # this bar's chord throughout
        stop = 2 <= b < 6
        lvl = 78 if b < 2 else 82 if stop else 92 + 2 * (b - 6)
        root = bass_note(name, 33)
        if stop:                                     # band hits the downbeat, then silence
            s.drum(u, KICK, lvl + 15)
            s.drum(u, CRASH, lvl)
            s.note(0, u, 1.6, root, lvl + 15)
            s.chord(1, u, 1.6, voicing(name, 55), lvl + 5)
            s.drum(u + 3, HH_PEDAL, lvl - 25)
            s.drum(u + 9, HH_PEDAL, lvl - 25)
            r = [(3, 1), (4, 1), (5, 2), (7, 1), (8, 1), (9, 2), (11, 1)] if b % 2 == 0 else \
                [(4, 2), (6, 1), (8, 1), (9, 3)]
            melody(s, 2, u, r, at, 9, BLUES, 64, 84, lvl, jitter_s=0.018, accent_every=3)
            continue
        for k in range(12):                          # shuffle: long-short on the ride
            if k % 3 != 1:
                s.drum(u + k, RIDE if b >= 6 else HH, lvl - 25 + (10 if k % 3 == 0 else 0), jitter_s=0.008)
        s.drum(u, KICK, lvl + 5)
        s.drum(u + 6, KICK, lvl)
        s.drum(u + 5, KICK, lvl - 20)
        for k in (3, 9):
            s.drum(u + k, SNARE, lvl + 8)
        if b in (1, 11, 13):                         # triplet fill over the last beat
            for i, k in enumerate((9, 10, 11)):
                s.drum(u + k, [SNARE, TOM_MID, TOM_LO][i], lvl + 4 * i)
        if b in (6, 10):
            s.drum(u, CRASH, lvl + 5)
        for k, iv in boogie:
            s.note(0, u + k, 2 if k % 3 == 0 else 1, root + iv, lvl + (8 if k % 3 == 0 else 0), jitter_s=0.008)
        for k in range(12):                          # piano: triplet chords, the beat accented
            if b >= 6 or k % 3 == 0:
                s.chord(1, u + k, 0.8, voicing(name, 57, skip_root=True), lvl - 22 + (12 if k % 3 == 0 else 0),
                        jitter_s=0.008)
        if b >= 6:                                   # harmonica takes the chorus
            r = [(0, 2), (2, 1), (3, 3), (6, 1), (7, 1), (8, 1), (9, 3)] if b % 2 == 0 else \
                [(1, 1), (2, 1), (3, 1), (4, 2), (6, 5)]
            melody(s, 3, u, r, at, 9, BLUES, 64, 86, lvl, jitter_s=0.02, accent_every=3,
                   contour=1.0 if b in (8, 9) else 0.0)
    end = bars * 12
    s.drum(end, CRASH, 120)
    s.drum(end, KICK, 120)
    s.note(0, end, 6, 33, 120)
    s.chord(1, end, 6, voicing("A9", 57), 110, strum_s=0.02)
    for i in range(12):                              # guitar tremolo on the final chord
        s.note(2, end + i * 0.5, 0.45, 76 if i % 2 else 81, 100 - 3 * i)
    s.end_s = s.tl(end + 7)
    return s


def dnb_174() -> Song:
    """Drum'n'bass, 4/4 at 174 bpm in F minor."""
    bars = 36
    s = new_song("dnb_174", "dnb", bpm=174, base_bpm=174, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 8, volume=115)                  # room kit (breakbeat)
    s.program(0, 38, volume=120)                     # synth bass 1
    s.program(1, 94, volume=90, reverb=90)           # halo pad
    s.program(2, 4, volume=85, pan=40, reverb=70, chorus=50)  # electric piano
    s.program(3, 80, volume=80, pan=80, reverb=60)   # square lead
    prog = ["Fm9", "Dbmaj7", "Bbm7", "C7"]
    at = chords_by_bar(prog, 4, per_bar=1)
    breaks = [([0, 2.5], [1, 3], [1.75, 3.25]),
              ([0, 0.5, 2.5, 2.75], [1, 3], [1.75, 3.5, 3.75]),
              ([0, 2.5], [1, 3], [0.75, 2.25]),
              ([0, 1.5, 2.5], [1, 3, 3.5], [1.75, 2.25])]
    for b in range(bars):
        u = b * 4
        name = prog[(b // 2) % 4]
        section = "intro" if b < 8 else "drop" if b < 20 else "break" if b < 24 else "drop2"
        lvl = {"intro": 70, "drop": 108, "break": 68, "drop2": 118}[section]
        if section in ("intro", "break"):
            if b % 2 == 0:
                s.chord(1, u, 8, voicing(name, 53), lvl)
                s.chord(2, u, 1.5, voicing(name, 60, skip_root=True), lvl - 5, strum_s=0.015)
                s.chord(2, u + 2.5, 1.5, voicing(name, 60, skip_root=True), lvl - 12, strum_s=0.015)
            if section == "intro" and b >= 4:
                for e in range(8):
                    s.drum(u + e * 0.5, HH, lvl - 25 + (10 if e % 2 else 0))
                s.drum(u + 2, KICK, lvl - 25)
            if section == "break":
                s.note(0, u, 3.9, bass_note(name, 29), lvl + 10)
                s.drum(u + 2, SNARE, lvl)     # half-time
                if b == 23 or b == 7:
                    for k in np.arange(0, 4, 0.25):
                        s.drum(u + k, SNARE, 50 + 18 * k)
            continue
        kicks, snares, ghosts = breaks[b % 4]
        if b % 8 == 7:                              # fill: sixteenth snares across beat 4
            kicks, snares, ghosts = [0, 2.5], [1], [1.75, 2.25, 3, 3.25, 3.5, 3.75]
        for k in kicks:
            s.drum(u + k, KICK, lvl + 8)
        for k in snares:
            s.drum(u + k, SNARE, lvl + 12)
        for k in ghosts:
            s.drum(u + k, SNARE, lvl - 40 + (35 if b % 8 == 7 and k >= 3 else 0))
        for e in range(8):
            s.drum(u + e * 0.5, RIDE if section == "drop2" else HH, lvl - 28 + (10 if e % 2 == 0 else 0))
        for e in range(16):
            s.drum(u + e * 0.25, SHAKER, lvl - 50 + (8 if e % 2 == 0 else 0))
        if b % 8 == 0:
            s.drum(u, CRASH, lvl + 5)
        root = bass_note(name, 29)
        for i, k in enumerate(kicks):               # bass follows the kick
            d = (kicks[i + 1] if i + 1 < len(kicks) else 4) - k
            s.note(0, u + k, d * 0.9, root + (7 if i == len(kicks) - 1 and b % 2 else 0), lvl + 5)
        if b % 2 == 0:
            s.chord(1, u, 8, voicing(name, 53), lvl - 40)
        for k in (0.75, 2.25):
            s.chord(2, u + k, 0.3, voicing(name, 60, skip_root=True), lvl - 30)
        if section == "drop2" and b % 2 == 0:
            r = [(0, 1), (1, 0.5), (1.5, 1.5), (3, 0.5), (3.5, 0.5), (4, 2), (6.5, 1.5)]
            melody(s, 3, u, r, at, 5, MINOR, 65, 84, lvl - 20, jitter_s=0.0)
    end = bars * 4
    s.drum(end, CRASH, 120)
    s.drum(end, KICK, 120)
    s.note(0, end, 3, 29, 120)
    s.chord(1, end, 6, voicing("Fm9", 53), 90)
    s.end_s = s.tl(end + 5)
    return s


def samba_104() -> Song:
    """Samba, 2/4 at 104 bpm in C."""
    bars = 44
    s = new_song("samba_104", "samba", bpm=104, base_bpm=104, meter="2/4", bar_units=2,
                 bar_beats=[0, 1], n_bars=bars)
    s.program(DRUMS, 0, volume=110)
    s.program(0, 32, volume=115)                     # acoustic bass
    s.program(1, 105, volume=85, pan=35, reverb=40)  # banjo (cavaquinho)
    s.program(2, 24, volume=95, pan=75, reverb=45)   # nylon guitar
    s.program(3, 56, volume=95, pan=60, reverb=60)   # trumpet
    s.program(4, 61, volume=90, pan=50, reverb=50)   # brass section
    lilt = (0.0, 0.03, 0.0, -0.025)
    prog = ["C", "A7", "Dm7", "G7", "Em7", "A7", "Dm7", "G7"]
    at = chords_by_bar(prog, 4)                       # two bars of 2/4 per chord
    tamborim = [0, 0.5, 0.75, 1.25, 1.5, 2.5, 3.0, 3.25]      # over two bars (quarter units)
    partido = [0.25, 0.75, 1.5, 2.0, 2.5, 3.25]               # cavaquinho, two bars
    for b in range(bars):
        u = b * 2
        name = prog[(b // 2) % 8]
        section = "intro" if b < 4 else "verse" if b < 16 else "chorus" if b < 24 else \
            "stop" if b < 26 else "verse" if b < 34 else "chorus"
        lvl = {"intro": 85, "verse": 88, "chorus": 105, "stop": 100}[section] + (8 if b >= 34 else 0)
        half = (b % 2) * 2
        if section == "stop":                        # the band stops: one hit, then a tamborim call
            if b == 24:
                s.drum(u, CRASH, lvl + 10)
                s.drum(u, TOM_LO, lvl + 15)
                s.chord(4, u, 0.4, voicing(name, 60), lvl + 10)
                s.note(0, u, 0.4, bass_note(name, 36), lvl + 10)
            else:
                for k in (0, 0.25, 0.75, 1.0, 1.5):
                    s.drum(u + k, 76, lvl - 5)
                s.drum(u + 1.75, 71, lvl - 10)
            continue
        # bateria: surdo (muffled on 1, open on 2), ganza sixteenths, tamborim, pandeiro
        s.drum(u, 43, lvl - 15)
        s.drum(u + 1, TOM_LO, lvl + 12)
        for e in range(8):
            s.drum(feel(u + e * 0.25, lilt, 0.25), 69, lvl - 35 + (15 if e % 4 == 3 else 0), jitter_s=0.006)
            s.drum(feel(u + e * 0.25, lilt, 0.25), TAMB, lvl - 40 + (12 if e % 2 == 1 else 0), jitter_s=0.006)
        for k in tamborim:
            if half <= k < half + 2:
                s.drum(feel(u + k - half, lilt, 0.25), 76, lvl - 10)
        if b < 2:
            s.drum(u, 72, 95)                        # apito calls the band in
        if b % 8 == 7 and section != "intro":
            s.drum(u + 1.5, 79, lvl - 10)            # cuica
        if section == "intro":
            continue
        root = bass_note(name, 36)
        s.note(0, u, 0.9, root, lvl + 5, jitter_s=0.005)
        s.note(0, feel(u + 1.75, lilt, 0.25), 0.2, root + 7 - 12, lvl - 5, jitter_s=0.005)
        s.note(0, u + 1, 0.7, root + 7 - 12, lvl + 8, jitter_s=0.005)
        for k in partido:
            if half <= k < half + 2:
                s.chord(1, feel(u + k - half, lilt, 0.25), 0.2, voicing(name, 62, skip_root=True), lvl - 15,
                        jitter_s=0.005)
        s.note(2, u, 0.9, root + 12, lvl - 10)
        s.chord(2, feel(u + 0.75, lilt, 0.25), 0.5, voicing(name, 55, skip_root=True), lvl - 15, strum_s=0.006)
        if b % 4 == 0:
            r = [(0, 0.5), (0.5, 0.25), (0.75, 0.75), (1.5, 0.5), (2, 0.25), (2.25, 0.5), (2.75, 1.25)] \
                if b % 8 == 0 else [(0.5, 0.5), (1, 0.5), (1.5, 1.0), (2.5, 0.5), (3, 1.0)]
            melody(s, 3, u, [(feel(u + x, lilt, 0.25) - u, d) for x, d in r], at, 0, MAJOR, 67, 88,
                   lvl - 5 + (10 if section == "chorus" else 0), jitter_s=0.01)
        if section == "chorus":
            for k in (0.75, 1.5) if b % 2 == 0 else (0.5,):
                s.chord(4, feel(u + k, lilt, 0.25), 0.3, voicing(name, 60), lvl)
    end = bars * 2
    s.drum(end, CRASH, 120)
    s.drum(end, TOM_LO, 120)
    s.note(0, end, 2, 36, 120)
    s.chord(4, end, 2, voicing("C6", 60), 115)
    s.end_s = s.tl(end + 2.5)
    return s


def quartet_6_8_62() -> Song:
    """String quartet in 6/8, rubato around 62 dotted-quarter beats per minute, in D minor.
    Written in eighths; the beats are the dotted quarters (eighths 0 and 3)."""
    bars = 24
    rng = np.random.default_rng(862)
    freqs, phases = rng.uniform(0.01, 0.04, 3), rng.uniform(0, 2 * np.pi, 3)

    def bpm(u):
        u = np.asarray(u, float)
        drift = sum(np.sin(2 * np.pi * f * u + p) for f, p in zip(freqs, phases)) / 3 * 0.05
        x = np.mod(u, 24.0)                          # four-bar phrases: lean in, then relax
        drift = drift + 0.04 * np.sin(np.pi * x / 21.0) * (x < 21) - 0.14 * np.clip((x - 21.0) / 3.0, 0, 1)
        drift = drift + 0.07 * ((u >= 48) & (u < 96))  # the middle section moves on
        drift = drift - 0.30 * np.clip((u - 93.0) / 3.0, 0, 1) * (u < 96)  # held breath
        drift = drift - 0.25 * np.clip((u - 132.0) / 12.0, 0, 1)  # final ritardando
        return 186.0 * (1.0 + drift)

    s = new_song("quartet_6_8_62", "quartet", bpm=bpm, base_bpm=62, meter="6/8", bar_units=6,
                 bar_beats=[0, 3], n_bars=bars)
    s.program(0, 40, volume=105, pan=35, reverb=75)  # violin I
    s.program(1, 40, volume=90, pan=50, reverb=75)   # violin II
    s.program(2, 41, volume=92, pan=80, reverb=75)   # viola
    s.program(3, 42, volume=105, pan=95, reverb=75)  # cello
    s.program(4, 45, volume=85, pan=70, reverb=70)   # pizzicato (middle section)
    prog_a = ["Dm", "Dm", "Gm", "A7", "Dm", "Bb", "Gm", "A7"]
    prog_b = ["F", "C7", "F", "Bb", "Gm7", "C7", "F", "A7"]
    arc = [50, 55, 62, 58, 62, 70, 78, 60, 58, 64, 72, 66, 70, 80, 90, 62,
           48, 54, 64, 60, 66, 72, 60, 50]
    phrase = [[(0, 3), (3, 2), (5, 1)], [(0, 1), (1, 1), (2, 1), (3, 3)],
              [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1)], [(0, 6)]]
    last = 69
    for b in range(bars):
        u = b * 6
        middle = 8 <= b < 16
        name = "Dm" if b == bars - 1 else (prog_b if middle else prog_a)[b % 8]
        lvl = arc[b]
        at = chords_by_bar([name], 1)     # this bar's chord throughout
        key_root, scale = (5, MAJOR) if middle else (2, HARM_MINOR)
        if b % 4 == 0:                                # hairpin over each phrase
            s.cc_ramp(0, 11, u, u + 14, 90, 127, step=1.0)
            s.cc_ramp(0, 11, u + 15, u + 23, 127, 95, step=1.0)
        bass = bass_note(name, 38)
        s.note(3, u, 2.8, bass, lvl + 5, jitter_s=0.012)
        s.note(3, u + 3, 2.8, bass + (7 if b % 2 == 0 else 12), lvl - 3, jitter_s=0.012)
        tones = voicing(name, 55)
        rock = [(0, 2, tones[0]), (2, 1, tones[-1]), (3, 2, tones[1] + 12), (5, 1, tones[-1])]
        for e, d, key in rock:                        # viola rocks long-short (barcarolle)
            s.note(2, u + e, d, key, lvl - 14 + (10 if e in (0, 3) else 0), jitter_s=0.012)
        if middle:
            for e in (2, 5):
                s.chord(4, u + e, 0.5, voicing(name, 62, skip_root=True)[:2], lvl - 20, jitter_s=0.008)
        for h in (0, 3):                              # violin II: the beats, held
            s.chord(1, u + h, 2.9, voicing(name, 62, skip_root=True)[:2], lvl - 15 + (4 if h == 0 else 0),
                    jitter_s=0.015)
        if b == bars - 1:
            s.note(0, u, 9, 74, lvl + 5, jitter_s=0.02)
            break
        last = melody(s, 0, u, phrase[(b + b // 4) % 4], at, key_root, scale, 65, 88, lvl + 12, start=last,
                      jitter_s=0.025, accent_every=3, contour=1.0 if b % 4 < 2 else -1.0)
    end = bars * 6
    s.chord(3, end - 6, 9, [38, 50], arc[-1])
    s.end_s = s.tl(end) + 3.5
    return s


def punk_184() -> Song:
    """Punk, 4/4 at 184 bpm in A."""
    bars = 38
    s = new_song("punk_184", "punk", bpm=184, base_bpm=184, meter="4/4", bar_units=4,
                 bar_beats=[0, 1, 2, 3], n_bars=bars)
    s.program(DRUMS, 0, volume=115)
    s.program(0, 34, volume=110)                     # picked bass
    s.program(1, 30, volume=95, pan=15)              # distortion guitar, left
    s.program(2, 30, volume=95, pan=113)             # distortion guitar, right
    s.program(3, 29, volume=90, pan=64, reverb=40)   # overdriven lead (the "vocal" line)
    riff = ["A5", "A5", "F5", "G5"]
    verse = ["A5", "D5", "A5", "E5"]
    pre = ["F5", "G5", "F5", "E5"]
    chorus = ["D5", "A5", "E5", "F#5"]

    def section(b: int) -> str:
        for end, name in ((1, "count"), (5, "intro"), (13, "verse"), (17, "pre"), (25, "chorus"),
                          (27, "break"), (35, "chorus")):
            if b < end:
                return name
        return "outro"

    for b in range(bars):
        u = b * 4
        kind = section(b)
        prog = {"intro": riff, "verse": verse, "pre": pre, "chorus": chorus, "break": chorus,
                "outro": riff}.get(kind, riff)
        name = prog[b % 4]
        lvl = {"count": 80, "intro": 100, "verse": 95, "pre": 105, "chorus": 118, "break": 90,
               "outro": 120}[kind]
        if kind == "count":
            for q in range(4):
                s.drum(u + q, STICK, 90)
            continue
        power = voicing(name, 40) + [voicing(name, 40)[0] + 12]
        root = bass_note(name, 33)
        if kind == "outro":                          # stabs on 1 (and 1, 2, 3, 4 in the last bar)
            hits = [0, 1, 2, 3] if b == bars - 1 else [0, 2.5] if b % 2 else [0]
            for k in hits:
                s.drum(u + k, CRASH, lvl)
                s.drum(u + k, KICK, lvl + 5)
                s.drum(u + k, SNARE, lvl)
                for ch in (1, 2):
                    s.chord(ch, u + k, 0.4, power, lvl, strum_s=0.004)
                s.note(0, u + k, 0.4, root, lvl)
            continue
        guitar_only = kind == "intro" and b < 3
        if not guitar_only:
            if kind in ("intro", "verse"):
                for e in range(8):
                    s.drum(u + e * 0.5, HH, lvl - 25 + (10 if e % 2 == 0 else 0))
                for k in (0, 1.5, 2):
                    s.drum(u + k, KICK, lvl + 5)
                for k in (1, 3):
                    s.drum(u + k, SNARE, lvl + 10)
            elif kind == "pre":
                for e in range(8):
                    s.drum(u + e * 0.5, 41, lvl - 10 + (10 if e % 2 == 0 else 0))
                s.drum(u, KICK, lvl)
                s.drum(u + 2, KICK, lvl)
                if b == 16:
                    for k in np.arange(2, 4, 0.25):
                        s.drum(u + k, SNARE, lvl - 20 + 8 * (k - 2) * 4)
            elif kind == "chorus":                    # double time: kick on the beat, snare on the "and"
                for q in range(4):
                    s.drum(u + q, KICK, lvl + 5)
                    s.drum(u + q + 0.5, SNARE, lvl + 5)
                    s.drum(u + q, CRASH if q == 0 and b % 4 == 1 else RIDE, lvl - 15)
            else:                                     # break: half time
                s.drum(u, KICK, lvl)
                s.drum(u + 2, SNARE, lvl + 15)
                for q in range(4):
                    s.drum(u + q, HH_OPEN, lvl - 25)
            if b in (5, 17, 27):
                s.drum(u, CRASH, lvl + 5)
            if b in (12, 24, 34):                     # fill: sixteenth toms down the kit
                for i, k in enumerate(np.arange(2, 4, 0.25)):
                    s.drum(u + k, [SNARE, SNARE, TOM_HI, TOM_HI, TOM_MID, TOM_MID, TOM_LO, TOM_LO][i], lvl + i)
        # guitars: palm-muted downstrokes in the verse, open chords on every eighth elsewhere
        if kind == "break":
            s.chord(1, u, 4, power, lvl, strum_s=0.01)
            s.note(3, u, 4, voicing(name, 64)[0] + 12, lvl - 10)
            s.note(0, u, 4, root, lvl)
            continue
        for e in range(8):
            muted = kind == "verse"
            for ch in (1,) if guitar_only else (1, 2):
                s.chord(ch, u + e * 0.5, 0.25 if muted else 0.45, power[:2] if muted else power,
                        lvl - (15 if muted else 5) + (10 if e % 2 == 0 else 0), strum_s=0.003, jitter_s=0.004)
            if not guitar_only:
                s.note(0, u + e * 0.5, 0.4, root, lvl - 5 + (8 if e % 2 == 0 else 0), jitter_s=0.004)
        if kind == "chorus" and b % 2 == 1:
            r = [(0, 1.5), (1.5, 0.5), (2, 2), (4, 1), (5, 1), (6, 2)]
            melody(s, 3, u, r, chords_by_bar(chorus, 4), 9, MAJOR, 64, 81, lvl - 10, jitter_s=0.006)
    end = bars * 4
    s.drum(end, CRASH, 127)
    s.drum(end, KICK, 127)
    s.chord(1, end, 3, voicing("A5", 40) + [57], 127, strum_s=0.02)
    s.chord(2, end, 3, voicing("A5", 40) + [57], 127, strum_s=0.025)
    s.note(0, end, 3, 33, 127)
    s.end_s = s.tl(end + 3)
    return s


TRACKS = {f.__name__: f for f in (rock_120, edm_128, piano_ballad_66, waltz_90, folk_7_8_140,
                                   polka_120, swing_trio_150, hiphop_90, funk_105, crescendo_96,
                                   calm_pad_54, bossa_130, reggae_76, shuffle_12_8_66, dnb_174,
                                   samba_104, quartet_6_8_62, punk_184)}
assert sorted(DEV + HOLDOUT + UNSEEN) == sorted(TRACKS)


# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------

def render(song: Song, out_dir: str) -> dict:
    """Write NAME.mid, NAME.flac and NAME.beats; return the track's metadata."""
    mid = os.path.join(out_dir, song.name + ".mid")
    song.midi().save(mid)
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "out.wav")
        subprocess.run(["fluidsynth", "-ni", "-g", "0.6", "-O", "float", "-T", "wav", "-F", wav,
                        "-r", str(SR), SOUNDFONT, mid], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        x, sr = sf.read(wav, dtype="float64", always_2d=True)
    assert sr == SR
    n = int(round(song.end_s * SR))
    x = x[:n]
    if len(x) < n:
        x = np.pad(x, ((0, n - len(x)), (0, 0)))
    fade = int(0.5 * SR)
    x[-fade:] *= np.linspace(1.0, 0.0, fade)[:, None]
    x *= 10 ** (-1 / 20) / max(np.abs(x).max(), 1e-9)
    sf.write(os.path.join(out_dir, song.name + ".flac"), x.astype(np.float32), SR, subtype="PCM_16")
    beats = [(t, i) for t, i in song.beats() if t < song.end_s]
    with open(os.path.join(out_dir, song.name + ".beats"), "w") as fh:
        for t, i in beats:
            fh.write(f"{t:.3f}\t{i}\n")
    ibi = np.diff([t for t, _ in beats])
    return {"genre": song.genre, "meter": song.meter, "bpm": song.bpm,
            "seconds": round(song.end_s, 3), "beats": len(beats),
            "median_beat_bpm": round(float(60.0 / np.median(ibi)), 2)}


def check(out_dir: str, names: list[str]) -> None:
    """Print loudness percentiles and librosa-vs-annotation beat F-measure per track."""
    import librosa
    import mir_eval

    print(f"{'track':18s} {'split':7s} {'bpm':>5s} {'lib bpm':>7s} {'F':>5s} {'lag ms':>6s} "
          f"{'rms10':>6s} {'rms50':>6s} {'rms90':>6s} {'range':>5s}  notes")
    for name in names:
        y, sr = sf.read(os.path.join(out_dir, name + ".flac"), always_2d=True)
        y = y.mean(axis=1)
        ref = np.loadtxt(os.path.join(out_dir, name + ".beats"), ndmin=2)[:, 0]
        tempo, est = librosa.beat.beat_track(y=y.astype(np.float32), sr=sr, units="time")
        f = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref), mir_eval.beat.trim_beats(est), 0.07)
        # lag (ms) at which the annotated beats sit on the most onset strength: ~0 if in phase
        env = librosa.onset.onset_strength(y=y.astype(np.float32), sr=sr, hop_length=256)
        fr = sr / 256
        lags = np.arange(-0.15, 0.151, 0.005)
        score = [env[np.clip(np.round((ref + lg) * fr).astype(int), 0, len(env) - 1)].mean() for lg in lags]
        lag_ms = 1000 * lags[int(np.argmax(score))]
        w = int(0.5 * sr)
        blocks = y[: len(y) // w * w].reshape(-1, w)
        db = 20 * np.log10(np.sqrt((blocks ** 2).mean(axis=1)) + 1e-9)
        p10, p50, p90 = np.percentile(db, [10, 50, 90])
        note = ""
        if name == "edm_128":
            note = f"breakdown 17-28 s {db[34:56].mean():.1f} dB, drop 31-45 s {db[62:90].mean():.1f} dB"
        if name == "crescendo_96":
            note = f"0-5 s {db[:10].mean():.1f} dB, 45-50 s {db[90:100].mean():.1f} dB"
        split = "dev" if name in DEV else "holdout" if name in HOLDOUT else "unseen"
        print(f"{name:18s} {split:7s} {60 / np.median(np.diff(ref)):5.0f} {float(np.atleast_1d(tempo)[0]):7.1f} "
              f"{f:5.2f} {lag_ms:6.0f} {p10:6.1f} {p50:6.1f} {p90:6.1f} {p90 - p10:5.1f}  {note}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m devtools.make_music", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--only", nargs="*", help="only these tracks")
    ap.add_argument("--check", action="store_true", help="check the written tracks (librosa, mir_eval)")
    ap.add_argument("--check-only", action="store_true", help="only check what is already written")
    a = ap.parse_args(argv)
    if shutil.which("fluidsynth") is None and not a.check_only:
        print("fluidsynth not found (apt-get install fluidsynth fluid-soundfont-gm)", file=sys.stderr)
        return 1
    os.makedirs(a.out, exist_ok=True)
    names = a.only or list(TRACKS)
    if not a.check_only:
        meta_path = os.path.join(a.out, "split.json")
        meta = json.load(open(meta_path)).get("tracks", {}) if os.path.exists(meta_path) else {}
        for name in names:
            song = TRACKS[name]()
            meta[name] = render(song, a.out)
            print(f"{name:18s} {meta[name]['seconds']:6.1f} s  {meta[name]['beats']:3d} beats  "
                  f"{meta[name]['meter']:12s} {meta[name]['median_beat_bpm']:.1f} bpm", flush=True)
        with open(meta_path, "w") as fh:
            json.dump({"dev": DEV, "holdout": HOLDOUT, "unseen": UNSEEN, "tracks": meta,
                       "generator": "devtools/make_music.py", "soundfont": "FluidR3_GM.sf2 (MIT)"},
                      fh, indent=1)
        sf.write(os.path.join(a.out, "pink_noise.flac"), pink_noise(60.0), SR, subtype="PCM_16")
        with open(os.path.join(a.out, "README.txt"), "w") as fh:
            fh.write(
                "Evaluation music generated by devtools/make_music.py (python -m devtools.make_music "
                "--out DIR).\nEach track is MIDI written programmatically with mido (NAME.mid), "
                "rendered with FluidSynth and the\nFluidR3_GM soundfont (MIT licence) to NAME.flac "
                "(44.1 kHz, peak -1 dBFS). NAME.beats has one line\nper beat, time_s<TAB>beat_in_bar, "
                "exact from the MIDI timing (tempo drift and ritardandi included;\nper-note "
                "humanising jitter is zero-mean around the beat). split.json lists the DEV, "
                "HOLDOUT and\nUNSEEN splits and each track's metre and tempo. pink_noise.flac: 60 s of pink "
                "noise, numpy seed 0, -20 dBFS RMS.\n")
    if a.check or a.check_only:
        check(a.out, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
