"""Colour LUTs checked against colour-science, an independent CIELAB implementation."""

import colour
import numpy as np
import pytest

from visualizer.render.colour import (
    DEFAULT_PALETTE,
    LUT_SIZE,
    PALETTES,
    build_lut,
    full_circle_chroma,
    palette_lab,
)
from visualizer.render.gamut import max_chroma, max_chroma_lookup


def bytes_to_lab(rgb_bytes):
    xyz = colour.sRGB_to_XYZ(rgb_bytes.astype(np.float64) / 255.0)
    return colour.XYZ_to_Lab(xyz, colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])


@pytest.mark.parametrize("lightness", [50.0, 70.0])
def test_lab_lut_has_constant_lightness_and_monotone_hue(lightness):
    lut = build_lut("lab", lightness=lightness)
    assert lut.shape == (LUT_SIZE, 3) and lut.dtype == np.uint8
    lab = bytes_to_lab(lut)
    assert np.abs(lab[:, 0] - lightness).max() <= 0.5
    designed = palette_lab("lab", lightness=lightness)
    assert np.all(np.diff(np.unwrap(np.arctan2(designed[:, 2], designed[:, 1]))) > 0)
    # in bytes, 8-bit rounding jitters neighbouring entries; a few entries apart the hue only rises
    hue = np.unwrap(np.arctan2(lab[::8, 2], lab[::8, 1]))
    assert np.all(np.diff(hue) > 0)
    assert hue[-1] - hue[0] == pytest.approx(2 * np.pi * (LUT_SIZE - 8) / LUT_SIZE, abs=0.05)


def test_lab_lut_is_in_gamut_and_as_saturated_as_the_gamut_allows():
    chroma = full_circle_chroma(70.0)
    lab = palette_lab("lab", lightness=70.0)
    rgb = colour.XYZ_to_sRGB(colour.Lab_to_XYZ(lab), apply_cctf_encoding=False)
    assert rgb.min() >= -1e-6 and rgb.max() <= 1 + 1e-6
    # a little more chroma must leave the gamut somewhere on the circle
    wider = palette_lab("lab", lightness=70.0, chroma=chroma * 1.02)
    rgb_wider = colour.XYZ_to_sRGB(colour.Lab_to_XYZ(wider), apply_cctf_encoding=False)
    assert rgb_wider.min() < 0 or rgb_wider.max() > 1


def test_lab_lut_neighbours_are_equally_spaced_in_delta_e():
    designed = palette_lab("lab")
    steps = colour.delta_E(designed, np.roll(designed, -1, axis=0), method="CIE 1976")
    assert steps.max() / steps.min() <= 1.2
    # what reaches the screen: 16 steps around the circle, each far above the 8-bit rounding noise
    shown = bytes_to_lab(build_lut("lab"))[::64]
    steps = colour.delta_E(shown, np.roll(shown, -1, axis=0), method="CIE 1976")
    assert steps.max() / steps.min() <= 1.2


@pytest.mark.parametrize("palette", PALETTES)
def test_lut_agrees_with_colour_science(palette):
    lab = palette_lab(palette)
    ours = bytes_to_lab(build_lut(palette))
    theirs_bytes = np.round(np.clip(colour.XYZ_to_sRGB(colour.Lab_to_XYZ(lab)), 0, 1) * 255)
    theirs = bytes_to_lab(theirs_bytes)
    assert colour.delta_E(ours, theirs, method="CIE 2000").max() <= 1.0
    assert colour.delta_E(ours, lab, method="CIE 2000").max() <= 1.0  # nothing clipped


def test_mono_is_black_to_white_following_cos_theta():
    lab = bytes_to_lab(build_lut("mono"))
    assert lab[0, 0] > 99 and lab[LUT_SIZE // 2, 0] < 1
    assert np.abs(lab[:, 1:]).max() < 1.0


def test_complementary_puts_opposite_phases_on_green_and_magenta():
    lab = bytes_to_lab(build_lut("complementary"))
    green, magenta = lab[0], lab[LUT_SIZE // 2]
    assert green[1] < -40 < 40 < magenta[1]  # a* negative = green, positive = magenta
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
    near_poles = (np.abs(hue - hue[0]) < 30) | (np.abs(hue - hue[LUT_SIZE // 2]) < 30)
    assert near_poles.mean() > 0.5  # the palette dwells near its two poles


def test_unknown_palette_is_rejected():
    with pytest.raises(ValueError, match="palette must be one of"):
        build_lut("rainbow")


def test_chroma_table_matches_bisection():
    """The interpolated table against a fresh bisection at 20 000 random (L*, hue) points."""
    rng = np.random.default_rng(0)
    lightness, hue = rng.uniform(10.0, 85.0, 20_000), rng.uniform(0.0, 2 * np.pi, 20_000)
    exact, table = max_chroma(lightness, hue), max_chroma_lookup(lightness, hue)
    relative = (table - exact) / exact
    assert relative.max() <= 0.005  # never more than half the 1 % gamut margin above the edge
    assert relative.min() >= -0.03  # and at most 3 % below it (measured 2.8 %, at the yellow cusp)
    assert np.median(np.abs(relative)) < 1e-3


def test_full_circle_chroma_matches_a_fine_bisection():
    hues = np.linspace(0.0, 2 * np.pi, 8192, endpoint=False)
    for lightness in (20.0, 37.5, 50.0, 61.3, 70.0, 85.0):
        exact = max_chroma(lightness, hues).min()
        assert full_circle_chroma(lightness) == pytest.approx(0.99 * exact, rel=0.004)


@pytest.mark.parametrize("palette", ["vivid", "lab", "complementary"])
def test_every_palette_stays_in_gamut_at_any_lightness(palette):
    for lightness in np.linspace(30.0, 90.0, 13):
        lab = palette_lab(palette, lightness=lightness)
        rgb = colour.XYZ_to_sRGB(colour.Lab_to_XYZ(lab), apply_cctf_encoding=False)
        assert rgb.min() >= -1e-6 and rgb.max() <= 1 + 1e-6, (palette, lightness)


def test_vivid_is_the_default_and_perceptually_even():
    assert DEFAULT_PALETTE == "vivid"
    designed = palette_lab("vivid", lightness=65.0)
    # designed equal in CIE94 (colour-science computes it independently)
    steps94 = colour.delta_E(designed, np.roll(designed, -1, axis=0), method="CIE 1994")
    assert steps94.max() / steps94.min() <= 1.05
    # in CIEDE2000 as even as the constant-lightness lab palette (measured: 1.6 vs 1.5)
    steps = colour.delta_E(designed, np.roll(designed, -1, axis=0), method="CIE 2000")
    lab_steps = colour.delta_E(palette_lab("lab", lightness=65.0), np.roll(palette_lab("lab", lightness=65.0), -1, axis=0),
                               method="CIE 2000")
    assert steps.max() / steps.min() <= 1.7
    assert steps.max() / steps.min() <= 1.15 * lab_steps.max() / lab_steps.min()
    # what reaches the screen: 16 steps around the circle
    shown = bytes_to_lab(build_lut("vivid", lightness=65.0))[::64]
    shown_steps = colour.delta_E(shown, np.roll(shown, -1, axis=0), method="CIE 2000")
    assert shown_steps.max() / shown_steps.min() <= 1.7


def test_vivid_is_vivid_with_smoothly_varying_lightness():
    lab = bytes_to_lab(build_lut("vivid", lightness=65.0))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    lab_chroma = full_circle_chroma(65.0)
    assert chroma.mean() >= 1.7 * lab_chroma  # measured 68 vs 36
    assert chroma.min() >= 0.9 * lab_chroma
    lightness = lab[:, 0]
    assert lightness.max() - lightness.min() >= 30  # light yellow-greens, dark blues
    assert np.abs(np.diff(np.append(lightness, lightness[0]))).max() < 0.5  # no jumps
    # hue goes once round the circle, always forward
    hue = np.unwrap(np.arctan2(lab[::8, 2], lab[::8, 1]))
    assert np.all(np.diff(hue) > 0) and hue[-1] - hue[0] > 1.9 * np.pi
    # opposite phases (a checkerboard) are far apart in colour
    opposite = colour.delta_E(lab, np.roll(lab, LUT_SIZE // 2, axis=0), method="CIE 2000")
    assert opposite.min() > 30
