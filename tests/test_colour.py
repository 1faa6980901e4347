"""Colour LUTs checked against colour-science, an independent CIELAB implementation."""

import colour
import numpy as np
import pytest

from visualizer.render.colour import LUT_SIZE, PALETTES, build_lut, full_circle_chroma, palette_lab


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
