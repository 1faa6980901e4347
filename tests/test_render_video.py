"""Video out: the colouring kernel against a reference, the writer, and ``render`` end to end,
checked with ffprobe."""

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from visualizer.background.video_writer import LIVE_BUFFERS, VideoError, VideoWriter
from visualizer.offline.render import main as render_main
from visualizer.render.colour import palette_lut
from visualizer.render.frames import FramePainter, Yuv420Frame, pack_rgb0
from visualizer.stage.actions import Look, look_lut

DEMO = Path(__file__).resolve().parent.parent / "assets" / "demo.flac"


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                          "stream=codec_type,codec_name,pix_fmt,color_space,width,height,nb_read_frames,duration,"
                          "sample_rate:format=duration", "-of", "json", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("view, reference", [("phase", 0.0), ("antiphase", 0.0), ("phase", 2.1)])
def test_a_video_frame_is_what_the_window_shows(view, reference):
    """The painter and the pygame Display (SDL's dummy video driver) draw the same pixels."""
    import pygame

    from visualizer.window.display import Display

    rng = np.random.default_rng(7)
    theta = rng.uniform(0, 2 * np.pi, (36, 64)).astype(np.float32)
    painter = FramePainter((200, 120))
    lut = painter.use_palette("vivid", lightness=60.0, saturation=0.5)
    frame = painter.paint(theta, view=view, reference=reference)
    display = Display(size=(200, 120))
    try:
        display.set_palette(lut)
        display.draw_field(theta, view=view, reference=reference, time_s=0.0)
        window = pygame.surfarray.array3d(display.canvas).transpose(1, 0, 2)  # (h, w, 3) RGB
    finally:
        pygame.quit()
    video = frame.view(np.uint8).reshape(120, 200, 4)[..., :3]  # rgb0: bytes R, G, B, 0
    np.testing.assert_array_equal(video, window)
    assert np.array_equal(lut, palette_lut("vivid", lightness=60.0, saturation=0.5))
    assert pack_rgb0(np.array([[1, 2, 3]], np.uint8))[0] == 1 | 2 << 8 | 3 << 16


@pytest.mark.parametrize("shifts", [(0, 8, 16), (16, 8, 0)])
def test_frames_are_converted_to_bt709_yuv420p(shifts):
    """The pipe's yuv420p against a float64 BT.709 limited-range model, from a column-major view
    (any strides are taken), in either byte order."""
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (90, 160, 3)).astype(np.float64)
    rgb[:2, :2] = 0, 0, 0
    rgb[:2, 2:4] = 255, 255, 255
    packed = (rgb.astype(np.uint32) << np.array(shifts, np.uint32)).sum(axis=2, dtype=np.uint32)
    frame = Yuv420Frame((160, 90))
    frame.convert(np.ascontiguousarray(packed.T).T, shifts)  # (h, w) view of a (w, h) array
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    y = 16 + 219 / 255 * luma
    block = lambda c: c.reshape(45, 2, 80, 2).mean(axis=(1, 3))  # noqa: E731
    cb = 128 + 224 / 255 * block((b - luma) / 1.8556)
    cr = 128 + 224 / 255 * block((r - luma) / 1.5748)
    for plane, model in ((frame.y, y), (frame.u, cb), (frame.v, cr)):
        assert np.abs(plane.astype(np.float64) - model).max() <= 0.51
    assert (frame.y[0, 0], frame.y[0, 2], frame.u[0, 0], frame.v[0, 1]) == (16, 235, 128, 128)


def test_render_makes_an_mp4_that_ffprobe_confirms(tmp_path):
    out = tmp_path / "clip.mp4"
    assert render_main([str(DEMO), "--preset", "nn-dmt", "--out", str(out), "--size", "320x180", "--fps", "30",
                        "--seconds", "2", "--grid", "48", "--no-progress"]) == 0
    info = probe(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == ("h264", "yuv420p", 320, 180)
    assert video["color_space"] == "bt709"  # tagged as converted, so players decode the colours right
    assert int(video["nb_read_frames"]) == 60
    assert float(video["duration"]) == pytest.approx(2.0, abs=1 / 30)
    assert audio["codec_name"] == "aac" and float(audio["duration"]) == pytest.approx(2.0, abs=0.05)
    assert float(info["format"]["duration"]) == pytest.approx(2.0, abs=0.05)
    # deterministic: the same command gives the same file, byte for byte
    again = tmp_path / "again.mp4"
    render_main([str(DEMO), "--preset", "nn-dmt", "--out", str(again), "--size", "320x180", "--fps", "30",
                 "--seconds", "2", "--grid", "48", "--no-progress"])
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(again.read_bytes()).digest()


def test_render_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert render_main([str(tmp_path / "missing.wav"), "--out", str(tmp_path / "x.mp4")]) == 2
    assert render_main([str(DEMO), "--preset", "nope", "--out", str(tmp_path / "x.mp4"), "--no-progress"]) == 2
    assert render_main([str(DEMO), "--out", str(tmp_path / "x.gif")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("visualizer render: error: ") for line in lines)
    with pytest.raises(SystemExit):
        render_main([str(DEMO), "--out", str(tmp_path / "x.mp4"), "--size", "321x180"])


def test_a_live_recording_never_blocks_and_accounts_for_every_frame(tmp_path):
    painter = FramePainter((160, 90))
    lut = painter.use_palette("complementary", lightness=70.0, saturation=1.0)
    theta = np.zeros((32, 32), np.float32)
    writer = VideoWriter(tmp_path / "live.mp4", size=(160, 90), fps=60, live=True)
    for i in range(90):
        theta[:] = (i * 0.07) % (2 * np.pi)
        writer.write(painter.paint(theta, lut=look_lut(lut, Look(brightness=1.0 - i / 180))))
    writer.close()
    assert writer.frames + writer.dropped == 90 and writer.frames > 0
    video = probe(tmp_path / "live.mp4")["streams"][0]
    assert int(video["nb_read_frames"]) == writer.frames and video["pix_fmt"] == "yuv420p"


def test_odd_sizes_are_refused_before_ffmpeg_starts(tmp_path):
    with pytest.raises(VideoError, match="must be even"):
        VideoWriter(tmp_path / "x.mp4", size=(161, 90), fps=30)
    with pytest.raises(VideoError, match="at bits"):
        VideoWriter(tmp_path / "x.mp4", size=(160, 90), fps=30, shifts=(0, 5, 10))


def _transitions(luma: np.ndarray, *, swing: float = 0.10, darker_below: float = 0.80) -> list[int]:
    """Frames where the mean relative luminance swings ≥ ``swing`` against its trend (WCAG 2.3.1)."""
    extreme, trend, found = luma[0], 0, []
    for i, v in enumerate(luma[1:], 1):
        if trend <= 0 and v - extreme >= swing and extreme < darker_below:
            extreme, trend = v, 1
            found.append(i)
        elif trend >= 0 and extreme - v >= swing and v < darker_below:
            extreme, trend = v, -1
            found.append(i)
        elif (trend > 0 and v > extreme) or (trend < 0 and v < extreme):
            extreme = v
    return found


def _most_flashes_in_a_second(frames: list[np.ndarray], fps: int) -> float:
    def luminance(frame):
        rgb = frame.view(np.uint8).reshape(*frame.shape, 4)[..., :3] / 255.0
        linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float((linear @ np.array([0.2126, 0.7152, 0.0722])).mean())
    times = np.array(_transitions(np.array([luminance(f) for f in frames])))
    return max(np.count_nonzero((times >= t) & (times < t + fps)) for t in range(len(frames))) / 2


def test_a_strobe_on_every_beat_is_cut_to_three_flashes_a_second_by_the_limiter():
    """Strobe on the beat at 10 beats/s over a black field, rendered as ``render`` does: with the
    limiter at most 3 flashes in any second; without it, 10."""
    from visualizer.engine.audio.features import FeatureSnapshot
    from visualizer.render.flash import FlashLimiter
    from visualizer.stage.actions import StageActions

    fps, frames_per_beat = 60, 6
    results = {}
    for limited in (False, True):
        painter = FramePainter((160, 90))
        lut = painter.use_palette("mono", lightness=70.0, saturation=1.0)
        theta = np.full((18, 32), np.pi, np.float32)  # mono at θ = π: black
        stage, limiter, out = StageActions(), FlashLimiter(), []
        stage.toggle_strobe()
        for i in range(2 * fps):
            look, _ = stage.update(FeatureSnapshot(beat_count=i // frames_per_beat + 1), 1 / fps)
            frame = painter.paint(theta, lut=look_lut(lut, look))
            if limited:
                limiter.apply(frame, shifts=FramePainter.SHIFTS, time_s=(i + 1) / fps)
            out.append(frame.copy())
        results[limited] = _most_flashes_in_a_second(out, fps)
    assert results[False] >= 9.5, results
    assert results[True] <= 3.0, results


def test_colours_come_back_from_the_file_as_they_went_in(tmp_path):
    """Solid colour bars through VideoWriter (our BT.709 conversion, H.264, the bt709 tags) and back
    through ffmpeg's decoder: every bar's centre within a few levels of its sRGB colour."""
    import imageio_ffmpeg

    colours = np.array([[255, 255, 255], [230, 40, 30], [30, 200, 60], [40, 60, 220], [250, 220, 40],
                        [20, 20, 20], [128, 128, 128], [200, 60, 200]], np.uint32)
    bars = np.repeat(colours, 32, axis=0)  # 8 bars of 32 px: 256 px wide
    frame = np.ascontiguousarray(np.broadcast_to(bars[:, 0] | bars[:, 1] << 8 | bars[:, 2] << 16, (64, 256)))
    with VideoWriter(tmp_path / "bars.mp4", size=(256, 64), fps=30) as writer:
        writer.write(frame, repeats=3)
    decoded = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "bars.mp4"),
                              "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                             capture_output=True, check=True).stdout
    rgb = np.frombuffer(decoded, np.uint8).reshape(64, 256, 3).astype(int)
    centres = rgb[32, 16::32]
    assert np.abs(centres - colours.astype(int)).max() <= 4, centres
    assert writer.frames == 3


def test_a_live_recording_keeps_its_timeline_when_the_window_is_slow_or_the_writer_drops(tmp_path):
    """Frames drawn at 30 frames/s with a 0.1 s stall, then a burst the live writer may have to drop
    frames of, are recorded as 60 frames/s video of the recording's length: every slot is filled
    (a frame held, a dropped frame's slots given to the next one, the dropped last frame's to the
    frame before it); the audio ends with it."""
    import time

    from visualizer.stage.recording import LiveRecording

    painter = FramePainter((160, 90))
    painter.use_palette("complementary", lightness=70.0, saturation=1.0)
    theta = np.zeros((32, 32), np.float32)
    recording = LiveRecording(tmp_path / "slow.mp4", size=(160, 90), shifts=FramePainter.SHIFTS)

    def drained() -> None:  # until the writer thread has piped every slot taken so far
        deadline = time.monotonic() + 60
        while recording.video.frames < recording.slots:
            assert time.monotonic() < deadline, f"the writer stopped: {recording.video.error}"
            time.sleep(0.001)

    sr = 48000
    times = [i / 30 for i in range(30)] + [1.1 + i / 30 for i in range(15)]  # held frames and a stall
    for t in times:
        theta[:] = t % (2 * np.pi)
        recording.add_frame(painter.paint(theta), t)
        recording.add_audio(np.full((sr // 30, 2), 0.1, np.float32), sr)
        drained()
    assert recording.dropped == 0 and recording.slots == int(times[-1] * 60 + 1e-6) + 1
    burst = [times[-1] + (i + 1) / 60 for i in range(40)]
    for t in burst:  # as fast as the loop goes: drops are allowed here
        recording.add_frame(painter.paint(theta), t)
    drained()
    held = [recording.video._free.get(timeout=30) for _ in range(LIVE_BUFFERS)]  # every buffer busy:
    recording.add_frame(painter.paint(theta), burst[-1] + 1 / 60)  # the last frame is dropped
    for buffer in held:
        recording.video._free.put(buffer)
    assert recording.slots < recording.due  # no next frame will fill its slots: finish does
    recording.finish()
    streams = {s["codec_type"]: s for s in probe(tmp_path / "slow.mp4")["streams"]}
    slots = int((burst[-1] + 1 / 60) * 60 + 1e-6) + 1  # 60 fps slots up to the last frame's time
    assert recording.slots == slots and int(streams["video"]["nb_read_frames"]) == slots
    assert float(streams["audio"]["duration"]) == pytest.approx(slots / 60, abs=0.05)  # padded to the video
    assert not list(tmp_path.glob(".*"))  # the parts were removed
