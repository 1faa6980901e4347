"""Training material for the learned beat activation: random MIDI songs we write ourselves,
rendered with FluidSynth and the FluidR3_GM soundfont (MIT licence), plus speech (espeak-ng) and
noise/pads/unpulsed notes as negatives.

    python -m devtools.train_data --out ../material/train --songs 160 --grooves 160 --negatives 40

Writes NAME.flac (mono 44.1 kHz) and NAME.beats (``time_s<TAB>beat_in_bar``; empty for the
negatives). Nothing here reads the evaluation music: the songs are drawn from seeds, with random
meters (2/4, 3/4, 4/4, 6/8, 5/4, 7/8 and 9/8 groupings), tempi (50–200 beats per minute), swing,
instruments, textures (band grooves, solo piano: Alberti bass, running semiquavers, chorale,
two-voice counterpoint, waltz left hand) and expressive timing (tempo drift up to ±25 %,
phrase-end ritardandi, per-note jitter). The texts and voices of the speech negatives differ from
those of ``devtools.presence`` and ``devtools.eval`` (those stay unseen).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile

import numpy as np
import soundfile as sf

from devtools import MATERIAL
from devtools.make_music import (
    BONGO_HI,
    CLAP,
    CONGA_HI,
    CONGA_LO,
    CRASH,
    DRUMS,
    HH,
    HH_OPEN,
    HH_PEDAL,
    KICK,
    MAJOR,
    MINOR,
    RIDE,
    SHAKER,
    SNARE,
    SOUNDFONT,
    STICK,
    TAMB,
    TOM_LO,
    Song,
    Timeline,
    bass_note,
    chords_by_bar,
    melody,
    voicing,
)
from devtools.synth import ambient_pad, pink_noise, random_notes, speech

SR = 44100

# meters: (name, bar length in units, beat positions in units, units per beat for the tempo)
METERS = [("2/4", 2, [0, 1], 1.0), ("3/4", 3, [0, 1, 2], 1.0), ("4/4", 4, [0, 1, 2, 3], 1.0),
          ("4/4", 4, [0, 1, 2, 3], 1.0), ("6/8", 6, [0, 3], 3.0), ("5/4", 5, [0, 1, 2, 3, 4], 1.0),
          ("7/8", 7, [0, 2, 4], 2.33), ("9/8", 9, [0, 2, 4, 6], 2.25), ("12/8", 12, [0, 3, 6, 9], 3.0)]
PROGRESSIONS = [["C", "G", "Am", "F"], ["Am", "F", "C", "G"], ["Dm", "Gm", "A7", "Dm"], ["C", "Am", "Dm7", "G7"],
                ["E", "A", "B7", "E"], ["Gm", "Cm", "D7", "Gm"], ["F", "Bb", "C7", "F"], ["Em", "C", "D", "B7"]]
PIANOS = [0, 1, 2, 4, 5, 6]
BASSES = [32, 33, 34, 35, 38, 43, 58]
COMPING = [0, 4, 24, 25, 26, 27, 29, 30, 16, 19, 21, 46, 48, 49, 52, 61, 88, 89]
LEADS = [40, 41, 56, 60, 64, 65, 66, 68, 71, 73, 74, 78, 80, 81, 104, 105, 106, 107, 110, 22, 11, 13]
TEXTS = [
    "Der Zug fährt um halb neun vom Hauptbahnhof ab, und wer zu spät kommt, muss auf den nächsten warten.",
    "La cuisine de ma grand-mère sentait toujours le pain chaud et la confiture de prunes en automne.",
    "El mercado abre temprano los sábados y los pescadores venden lo que trajeron de la noche anterior.",
    "Η θάλασσα ήταν ήσυχη εκείνο το πρωί και οι βάρκες γύρισαν νωρίς στο λιμάνι με τα δίχτυα γεμάτα.",
    "Il professore ha spiegato la lezione due volte, ma nessuno ha capito perché il risultato era sbagliato.",
    "My neighbour keeps bees in the garden and every summer she gives us a jar of honey and a long lecture.",
    "Please remember to switch off the oven, lock the back door and water the tomatoes before you leave.",
    "Twelve, eleven, ten, nine, eight, seven, six, five, four, three, two, one, and here we go again.",
]
VOICES = ["de", "fr-fr", "es", "el", "it", "en-us-nyc", "en-029", "en-gb-x-gbclan", "pt", "nl", "pl", "sv"]


def tempo_curve(rng: np.random.Generator, base: float, *, rubato: float, phrase_units: float):
    """bpm(u) in units per minute: slow sinusoidal drift (±rubato), ritardando into each phrase end
    and a short push after it."""
    freqs = rng.uniform(0.01, 0.12, 4)
    phases = rng.uniform(0, 2 * np.pi, 4)
    rit = rng.uniform(0.0, 0.5) * (rubato > 0)

    def bpm(u):
        u = np.asarray(u, float)
        drift = sum(np.sin(2 * np.pi * f * u + p) for f, p in zip(freqs, phases)) / 2.0 * rubato
        x = np.mod(u, phrase_units) / phrase_units
        drift = drift - rit * np.clip((x - 0.85) / 0.15, 0, 1) ** 2
        return base * np.clip(1.0 + drift, 0.5, 1.6)
    return bpm


def random_song(seed: int) -> Song:
    rng = np.random.default_rng(seed)
    style = rng.choice(["band", "band", "piano", "piano", "piano", "ensemble", "folk"])
    meter, bar_units, bar_beats, per_beat = METERS[rng.integers(len(METERS))]
    if style == "piano" and rng.random() < 0.5:
        meter, bar_units, bar_beats, per_beat = METERS[rng.choice([1, 2, 3])]
    beat_bpm = float(np.exp(rng.uniform(np.log(50), np.log(200))))
    unit_bpm = beat_bpm * per_beat
    rubato = {"piano": rng.uniform(0.05, 0.25), "ensemble": rng.uniform(0.0, 0.15)}.get(str(style), rng.choice([0.0, 0.0, 0.03]))
    seconds = rng.uniform(25, 40)
    n_bars = max(4, int(seconds / (60.0 / unit_bpm * bar_units)))
    bpm = tempo_curve(rng, unit_bpm, rubato=rubato, phrase_units=bar_units * rng.choice([2, 4]))
    tl = Timeline(n_bars * bar_units + 8, bpm)
    s = Song(f"train_{seed:04d}", tl, bpm=beat_bpm, meter=meter, bar_beats=list(bar_beats),
             bar_units=bar_units, n_bars=n_bars, genre=str(style))
    s.rng = rng
    prog = PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    at = chords_by_bar(prog, bar_units)
    key_root = PROGRESSIONS.index(prog) % 12
    scale = MINOR if prog[0].endswith("m") else MAJOR
    jitter = rng.uniform(0.003, 0.03) if style in ("piano", "ensemble") else rng.uniform(0.002, 0.012)
    accent = rng.uniform(0, 18)
    swing = rng.uniform(0.5, 0.68) if rng.random() < 0.3 else 0.5
    # beat subdivision grid in units: quarter-note meters split a beat in 2 or 4; compound ones in 3
    sub = 0.5 if per_beat == 1.0 else 1.0

    def sw(u):  # swung position of an off-beat eighth
        if per_beat == 1.0 and abs((u % 1.0) - 0.5) < 1e-6:
            return np.floor(u) + swing
        return u

    beat_starts = list(bar_beats)
    beat_len = [((beat_starts + [bar_units])[i + 1] - b) for i, b in enumerate(beat_starts)]
    lvl_base = rng.uniform(55, 100)
    fade = rng.random() < 0.3
    if style == "piano":
        s.program(0, int(rng.choice(PIANOS)), volume=110, reverb=int(rng.uniform(20, 90)))
        texture = rng.choice(["alberti", "running", "chorale", "counterpoint", "oompah", "melody"], size=3)
        for b in range(n_bars):
            u = b * bar_units
            name = at.name(u)
            lvl = lvl_base + 20 * np.sin(2 * np.pi * b / rng.uniform(6, 16)) + (b * 30 / n_bars if fade else 0)
            tex = texture[(b // 4) % 3]
            bass = bass_note(name, 36)
            tones = voicing(name, 55)
            if tex == "alberti":
                pattern = [bass, tones[-1], tones[1 % len(tones)], tones[-1]]
                for i, e in enumerate(np.arange(0, bar_units, sub / 2 if rng.random() < 0.5 else sub)):
                    s.note(0, u + e, 0.3, pattern[i % 4], lvl - 15 + rng.normal(0, 4), jitter_s=jitter)
                melody(s, 0, u, [(bs, bl) for bs, bl in zip(beat_starts, beat_len)], at, key_root, scale, 64, 86,
                       lvl + accent / 2, jitter_s=jitter)
            elif tex == "running":
                arp = sorted(set([bass + 12] + tones + [t + 12 for t in tones] + [t + 24 for t in tones]))
                step = sub / 2
                for i, e in enumerate(np.arange(0, bar_units, step)):
                    on_beat = any(abs(e - bs) < 1e-6 for bs in beat_starts)
                    k = arp[(i if (i // len(arp)) % 2 == 0 else -i - 1) % len(arp)]
                    s.note(0, u + e, step * 1.5, k, lvl - 10 + (accent if on_beat else 0) + rng.normal(0, 6),
                           jitter_s=jitter)
                for bs in beat_starts[:: max(1, len(beat_starts) // 2)]:
                    s.chord(0, u + bs, 1.0, [bass - 12, bass], lvl + rng.normal(0, 4), jitter_s=jitter)
            elif tex == "chorale":
                for bs, bl in zip(beat_starts, beat_len):
                    keys = [bass] + voicing(at.name(u + bs), 55) + [voicing(at.name(u + bs), 67)[0]]
                    s.chord(0, u + bs, bl, keys, lvl + (accent if bs == 0 else 0), strum_s=rng.uniform(0, 0.02),
                            jitter_s=jitter)
            elif tex == "counterpoint":
                r = [(e, sub) for e in np.arange(0, bar_units, sub)]
                melody(s, 0, u, r, at, key_root, scale, 60, 84, lvl, jitter_s=jitter, accent_every=1.0)
                r2 = [(e, sub * 2) for e in np.arange(0, bar_units, sub * 2)] if rng.random() < 0.5 else r
                melody(s, 0, u, r2, at, key_root, scale, 40, 58, lvl - 5, jitter_s=jitter)
            elif tex == "oompah":
                for i, (bs, bl) in enumerate(zip(beat_starts, beat_len)):
                    if i == 0:
                        s.note(0, u + bs, bl, bass, lvl + accent, jitter_s=jitter)
                    else:
                        s.chord(0, u + bs, bl * 0.8, voicing(name, 52), lvl - 10, jitter_s=jitter)
                r = [(e, sub) for e in np.arange(0, bar_units, sub) if rng.random() < 0.7]
                melody(s, 0, u, r or [(0, bar_units)], at, key_root, scale, 64, 88, lvl + 5, jitter_s=jitter)
            else:
                s.chord(0, u, bar_units, [bass] + tones, lvl - 10, jitter_s=jitter)
                r = []
                e = 0.0
                while e < bar_units:
                    d = float(rng.choice([sub / 2, sub, sub, 2 * sub, 3 * sub]))
                    r.append((e, min(d, bar_units - e)))
                    e += d
                melody(s, 0, u, r, at, key_root, scale, 62, 88, lvl + 5, jitter_s=jitter)
    else:
        drums = style in ("band", "folk")
        s.program(0, int(rng.choice(BASSES)), volume=100)
        s.program(1, int(rng.choice(COMPING)), volume=90, pan=40, reverb=int(rng.uniform(10, 80)))
        s.program(2, int(rng.choice(LEADS)), volume=95, pan=85, reverb=int(rng.uniform(10, 80)))
        if drums:
            s.program(DRUMS, int(rng.choice([0, 8, 16, 24, 25, 32, 40])), volume=105)
        hat = int(rng.choice([HH, HH, RIDE, SHAKER, TAMB, HH_PEDAL]))
        hat_step = float(rng.choice([sub, sub / 2, sub * 2])) if per_beat == 1.0 else 1.0
        backbeat = int(rng.choice([SNARE, SNARE, CLAP, STICK]))
        kick_pattern = rng.choice(["beats", "one_three", "syncop", "downbeat"])
        comp = rng.choice(["beats", "offbeats", "held", "arp"])
        for b in range(n_bars):
            u = b * bar_units
            name = at.name(u)
            lvl = lvl_base + rng.normal(0, 3) + (b * 30 / n_bars - 15 if fade else 0)
            intro = b < 2 and rng.random() < 0.5
            if drums and not intro:
                if b % 8 == 0:
                    s.drum(u, CRASH, lvl + 5)
                if style == "folk":
                    for i, bs in enumerate(beat_starts):
                        s.drum(u + bs, CONGA_LO if i == 0 else CONGA_HI, lvl + (accent if i == 0 else 0))
                    for e in np.arange(0, bar_units, 1.0 if per_beat > 1 else sub):
                        if not any(abs(e - bs) < 1e-6 for bs in beat_starts):
                            s.drum(u + sw(e), BONGO_HI, lvl - 20)
                else:
                    for e in np.arange(0, bar_units, hat_step):
                        on = any(abs(e - bs) < 1e-6 for bs in beat_starts)
                        s.drum(u + sw(e), hat, lvl - 20 + (8 if on else 0))
                    for i, bs in enumerate(beat_starts):
                        kick = {"beats": True, "one_three": i % 2 == 0, "syncop": i % 2 == 0,
                                "downbeat": i == 0}[kick_pattern]
                        if kick:
                            s.drum(u + bs, KICK, lvl + 5)
                        if kick_pattern == "syncop" and i % 2 == 1 and per_beat == 1.0:
                            s.drum(u + bs + 0.5, KICK, lvl - 5)
                        if i % 2 == 1 and len(beat_starts) > 2 or (len(beat_starts) == 2 and i == 1):
                            s.drum(u + bs, backbeat, lvl + 5)
                    if rng.random() < 0.1:
                        s.drum(u + bar_units - sub, HH_OPEN, lvl)
            # bass
            bn = bass_note(name, 33)
            for i, (bs, bl) in enumerate(zip(beat_starts, beat_len)):
                if i == 0 or rng.random() < 0.7:
                    s.note(0, u + bs, bl * 0.9, bn + (7 if i % 2 and rng.random() < 0.5 else 0), lvl,
                           jitter_s=jitter)
            # comping
            keys = voicing(name, 55)
            if comp == "beats":
                for bs, bl in zip(beat_starts, beat_len):
                    s.chord(1, u + bs, bl * 0.7, keys, lvl - 15, strum_s=rng.uniform(0, 0.015), jitter_s=jitter)
            elif comp == "offbeats" and per_beat == 1.0:
                for bs in beat_starts:
                    s.chord(1, u + sw(bs + 0.5), 0.3, keys, lvl - 12, jitter_s=jitter)
            elif comp == "held":
                s.chord(1, u, bar_units, keys, lvl - 20, jitter_s=jitter)
            else:
                for i, e in enumerate(np.arange(0, bar_units, sub)):
                    s.note(1, u + sw(e), sub * 1.5, keys[i % len(keys)] + 12, lvl - 18, jitter_s=jitter)
            # melody in some bars
            if b % 4 >= 1 or style == "ensemble":
                r = []
                e = 0.0
                while e < bar_units:
                    d = float(rng.choice([sub, sub, 2 * sub, 3 * sub, sub / 2]))
                    r.append((e, min(d, bar_units - e)))
                    e += d
                melody(s, 2, u, [(sw(e), d) for e, d in r], at, key_root, scale, 62, 86, lvl - 5,
                       jitter_s=jitter)
    s.end_s = s.tl(n_bars * bar_units) + 1.0
    return s


# Backbeat grooves (4/4, a quarter note = 1 unit): what marks the beat is which drum sounds (snare
# or clap on 2 and 4, surdo or kick on the quarters), while kick, bass, stabs and open hats fall
# on the off-beats. Kick patterns: 16th positions in one bar.
GROOVE_KICKS = {
    "funk": [[0, 0.75, 2.5], [0, 1.75, 2.5, 3.25], [0, 0.5, 2.75], [0, 1.5, 2.25, 3.5], [0, 2.5, 2.75]],
    "hiphop": [[0, 0.75, 2.5], [0, 1.5, 2.75], [0, 0.5, 1.75, 2.5], [0, 2.25, 2.5]],
    "bossa": [[0, 1.5, 2, 3.5]],
    "samba": [[0, 1.5, 2, 3.5], [0.75, 1, 2.75, 3]],
    "reggaeton": [[0, 1, 2, 3]],
    "edm": [[0, 1, 2, 3]],
}
GROOVE_BPM = {"funk": (88, 124), "hiphop": (70, 102), "bossa": (108, 150), "samba": (92, 124),
              "reggaeton": (84, 104), "edm": (116, 134)}
# positions (units in a bar) of the backbeat or its stand-in, per style
GROOVE_BACKBEAT = {"funk": [1, 3], "hiphop": [1, 3], "bossa": [], "samba": [1, 3], "reggaeton": [0.75, 1.5, 2.75, 3.5],
                   "edm": [1, 3]}
CLAVES_BOSSA = [[0, 0.75, 1.5, 2.5, 3.25], [0, 1, 2.5, 3.25]]  # rim clave over two bars (2-3 or 3-2 feel)


def groove_song(seed: int) -> Song:
    """One backbeat groove: funk, hip-hop, bossa, samba, reggaeton or EDM with open hats on the
    "and"s; random tempo, swing, kit, instruments and balance (stabs and bass sometimes louder
    than the drums), so loudness and low bands point at the off-beats as often as at the beats."""
    rng = np.random.default_rng(50_000 + seed)
    style = str(rng.choice(list(GROOVE_KICKS)))
    beat_bpm = float(rng.uniform(*GROOVE_BPM[style]))
    seconds = rng.uniform(25, 35)
    n_bars = max(6, int(seconds / (60.0 / beat_bpm * 4)))
    bpm = tempo_curve(rng, beat_bpm, rubato=float(rng.choice([0.0, 0.0, 0.02])), phrase_units=16)
    tl = Timeline(n_bars * 4 + 8, bpm)
    s = Song(f"groove_{seed:04d}", tl, bpm=beat_bpm, meter="4/4", bar_beats=[0, 1, 2, 3], bar_units=4,
             n_bars=n_bars, genre=style)
    s.rng = rng
    prog = PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    at = chords_by_bar(prog, 4, per_bar=int(rng.choice([1, 2])))
    swing = rng.uniform(0.5, 0.62) if style in ("hiphop", "funk") and rng.random() < 0.6 else 0.5
    jitter = rng.uniform(0.002, 0.012)

    def sw(u):  # 16th swing: the second and fourth 16th of each beat move late
        frac = (u % 0.5)
        return u + (swing - 0.5) * 0.5 if abs(frac - 0.25) < 1e-6 else u

    drums_db = rng.uniform(-12, 6)  # drums against the band: sometimes the stabs dominate
    kick_pat = GROOVE_KICKS[style][rng.integers(len(GROOVE_KICKS[style]))]
    s.program(DRUMS, int(rng.choice([0, 8, 16, 24, 25, 32, 40])), volume=105)
    s.program(0, int(rng.choice(BASSES)), volume=100)
    s.program(1, int(rng.choice(COMPING)), volume=95, pan=40, reverb=int(rng.uniform(10, 70)))
    s.program(2, int(rng.choice(LEADS + [61, 62, 56, 57])), volume=95, pan=85, reverb=int(rng.uniform(10, 70)))
    hat = int(rng.choice([HH, HH, SHAKER, TAMB, HH_PEDAL]))
    back = int(rng.choice([SNARE, SNARE, CLAP, STICK]))
    stab_slots = sorted(rng.choice([0.5, 0.75, 1.5, 1.75, 2.5, 2.75, 3.25, 3.5], size=int(rng.integers(2, 5)),
                                   replace=False))
    lvl = rng.uniform(70, 100)
    d = lvl + drums_db
    intro = int(rng.integers(0, 3))
    for b in range(n_bars):
        u = b * 4
        name = at.name(u)
        bn = bass_note(name, 33)
        keys = voicing(name, 55)
        if b >= intro:
            if b % 8 == intro % 8:
                s.drum(u, CRASH, d)
            for k in kick_pat:
                s.drum(u + sw(k), KICK, d + 4 + (4 if k == 0 else 0))
            if style == "bossa":
                for k in CLAVES_BOSSA[(b + seed) % 2]:
                    s.drum(u + k, STICK, d - 2)
                for e in np.arange(0, 4, 0.5):
                    s.drum(u + e, SHAKER if hat == HH else hat, d - 14 + (4 if e % 1 == 0 else 0))
            elif style == "samba":
                for e in np.arange(0, 4, 0.25):
                    s.drum(u + e, TAMB, d - 16 + (6 if e % 1 == 0 else 0))
                for k in (1, 3):  # surdo: the answer on 2 and 4 is the deep one
                    s.drum(u + k, TOM_LO, d + 6)
            else:
                step = 0.25 if rng.random() < 0.5 or style == "funk" else 0.5
                accent_on = style != "edm" and rng.random() < 0.7
                for e in np.arange(0, 4, step):
                    on = abs(e - round(e)) < 1e-6
                    s.drum(u + sw(e), hat, d - 16 + (6 if on == accent_on else 0))
                if style == "edm":
                    for e in (0.5, 1.5, 2.5, 3.5):
                        s.drum(u + e, HH_OPEN, d - 2)
            for k in GROOVE_BACKBEAT[style]:
                s.drum(u + sw(k), back if style != "reggaeton" else int(rng.choice([SNARE, CLAP])), d + 6)
            if style in ("funk", "hiphop"):  # ghost snares
                for e in rng.choice([0.25, 0.75, 1.75, 2.25, 2.75, 3.25, 3.75], size=3, replace=False):
                    s.drum(u + sw(float(e)), SNARE, d - 22)
        # bass: with the kick (funk, hip-hop, bossa, samba) or on the off-beats (EDM, reggaeton sometimes)
        bass_slots = [0.5, 1.5, 2.5, 3.5] if style == "edm" or (style == "reggaeton" and rng.random() < 0.5) \
            else kick_pat + ([3.75] if rng.random() < 0.4 else [])
        for k in bass_slots:
            s.note(0, u + sw(k), 0.4, bn + (7 if k in (1.5, 3.5) and rng.random() < 0.5 else 0), lvl + 4,
                   jitter_s=jitter)
        # comping: stabs on syncopated slots, loud
        for k in stab_slots:
            s.chord(1, u + sw(float(k)), 0.2, keys, lvl + rng.normal(0, 3), jitter_s=jitter)
        if b % 4 >= 2:
            r = [(e, 0.5) for e in np.arange(0, 4, 0.5) if rng.random() < 0.5]
            melody(s, 2, u, [(sw(e), dd) for e, dd in r] or [(0.5, 1.0)], at, 0, MINOR, 62, 84, lvl - 4,
                   jitter_s=jitter)
    s.end_s = s.tl(n_bars * 4) + 1.0
    return s


def render_song(song: Song, out_dir: str) -> None:
    mid_dir = tempfile.mkdtemp()
    mid = os.path.join(mid_dir, song.name + ".mid")
    song.midi().save(mid)
    wav = os.path.join(mid_dir, "out.wav")
    subprocess.run(["fluidsynth", "-ni", "-g", "0.6", "-O", "float", "-T", "wav", "-F", wav, "-r", str(SR),
                    SOUNDFONT, mid], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    x, _ = sf.read(wav, dtype="float32", always_2d=True)
    os.remove(wav)
    os.remove(mid)
    os.rmdir(mid_dir)
    x = x.mean(axis=1)[: int(song.end_s * SR)]
    gain = 10 ** (song.rng.uniform(-25, -1) / 20)
    x = x * gain / max(float(np.abs(x).max()), 1e-9)
    sf.write(os.path.join(out_dir, song.name + ".flac"), x, SR, subtype="PCM_16")
    with open(os.path.join(out_dir, song.name + ".beats"), "w") as fh:
        for t, i in song.beats():
            if t < song.end_s - 0.5:
                fh.write(f"{t:.3f}\t{i}\n")


def negative(seed: int, out_dir: str) -> None:
    rng = np.random.default_rng(10_000 + seed)
    kind = ["speech", "speech", "speech", "noise", "pad", "notes", "speech_noise"][seed % 7]
    if kind.startswith("speech"):
        text = " ".join(rng.choice(TEXTS, size=3))
        x = speech(SR, text, voice=str(rng.choice(VOICES)), words_per_minute=int(rng.uniform(120, 240)))
        if kind == "speech_noise":
            x = x + pink_noise(SR, seconds=x.size / SR + 0.1, rng=rng)[: x.size] * rng.uniform(0.05, 0.5)
    elif kind == "noise":
        x = pink_noise(SR, seconds=30, rng=rng) if rng.random() < 0.5 else \
            (rng.standard_normal(30 * SR) * 0.1).astype(np.float32)
    elif kind == "pad":
        x = ambient_pad(SR, seconds=30, rng=rng)
    else:
        x = random_notes(SR, seconds=30, rng=rng, rate_hz=float(rng.uniform(2, 12)))
    x = (x * 10 ** (rng.uniform(-25, -1) / 20) / max(float(np.abs(x).max()), 1e-9)).astype(np.float32)
    name = f"neg_{seed:04d}_{kind}"
    sf.write(os.path.join(out_dir, name + ".flac"), x, SR, subtype="PCM_16")
    open(os.path.join(out_dir, name + ".beats"), "w").close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.train_data", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(MATERIAL / "train"))
    parser.add_argument("--songs", type=int, default=160)
    parser.add_argument("--negatives", type=int, default=40)
    parser.add_argument("--grooves", type=int, default=0, help="backbeat grooves (seeds from --first)")
    parser.add_argument("--first", type=int, default=0, help="first seed")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for prefix, make, count in (("train", random_song, args.songs), ("groove", groove_song, args.grooves)):
        for seed in range(args.first, args.first + count):
            if not os.path.exists(os.path.join(args.out, f"{prefix}_{seed:04d}.flac")):
                render_song(make(seed), args.out)
                print(prefix, seed, flush=True)
    for seed in range(args.first, args.first + args.negatives):
        negative(seed, args.out)
        print("negative", seed, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
