"""Animation writers: stream HWC uint8 frames into a looping GIF or an H.264 MP4.

Both writers consume ``frames`` one at a time from any iterable (a generator rendering a
latent walk, a list...), report progress to an optional job context, stop at the next frame
when it is cancelled, and write atomically: a cancelled or failed export leaves no file (and
an older file at the same path untouched).

* GIF: one global 256-colour palette (median cut over a sample of frames, so colours do not
  flicker between frames), or an adaptive palette per frame. Frame delays are stored in
  1/100 s, so the played rate is 100 / round(100 / fps). Pillow merges identical
  consecutive frames into one longer frame. Pillow keeps every (palettised) frame in memory
  until the file is written, so GIF memory grows with the frame count; use MP4 for long clips.
* MP4: H.264 (libx264) in yuv420p through the ffmpeg binary of ``imageio-ffmpeg``; odd
  widths/heights are padded by one edge pixel to even. Memory stays flat: each frame is piped
  to ffmpeg and dropped.
"""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from PIL import Image

from batikstudio.errors import ExportError, ImageError
from batikstudio.io.atomic import atomic_path
from batikstudio.jobs import JobContext

log = logging.getLogger(__name__)

GIF_MAX_FPS = 50  # browsers slow down delays under 2/100 s to 1/10 s
GIF_PALETTES = ("global", "adaptive")
_SAMPLE_SIDE = 160  # palette sample frames are shrunk to at most this many pixels a side


def _as_rgb_frame(frame: Any, index: int, size: tuple[int, int] | None) -> np.ndarray:
    """Check one frame; return it as a C-contiguous HxWx3 uint8 array."""
    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        raise ImageError(f"frame {index}: expected uint8, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or 0 in arr.shape[:2]:
        raise ImageError(f"frame {index}: expected HxW, HxWx1, HxWx3 or HxWx4, got {arr.shape}")
    if size is not None and arr.shape[:2] != size:
        raise ImageError(
            f"frame {index} is {arr.shape[1]}x{arr.shape[0]}, "
            f"expected {size[1]}x{size[0]} like frame 0"
        )
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


def _total(frames: Iterable[Any], total: int | None) -> int | None:
    if total is not None:
        return total
    try:
        return len(frames)  # type: ignore[arg-type]
    except TypeError:
        return None


def _check_fps(fps: float, limit: float) -> None:
    if not 0 < fps <= limit:
        raise ValueError(f"fps must be in (0, {limit:g}], got {fps}")


def _gif_palette(sample: list[np.ndarray], colors: int, reserve_cube: bool) -> Image.Image:
    """A palette image fitted by median cut on the sample frames, shrunk and stacked.

    With ``reserve_cube`` (frames streamed from an iterator, so later colours were not
    sampled), 64 entries hold a 4x4x4 RGB cube that, with dithering, keeps unseen colours
    from collapsing onto the nearest sampled one.
    """
    tiles = []
    for frame in sample:
        img = Image.fromarray(frame)
        img.thumbnail((_SAMPLE_SIDE, _SAMPLE_SIDE), Image.Resampling.BOX)
        tiles.append(np.asarray(img))
    width = max(t.shape[1] for t in tiles)
    mosaic = np.concatenate(
        [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0)), mode="edge") for t in tiles]
    )
    cube = reserve_cube and colors >= 128
    fitted = Image.fromarray(mosaic).quantize(
        colors=colors - 64 if cube else colors, method=Image.Quantize.MEDIANCUT
    )
    entries = np.array(fitted.getpalette() or [], dtype=np.uint8).reshape(-1, 3)
    used = sorted(index for _, index in fitted.getcolors(256) or [])
    entries = entries[used] if used else entries
    if cube:
        levels = np.array([0, 85, 170, 255], dtype=np.uint8)
        grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
        entries = np.concatenate([entries, grid.reshape(-1, 3)])
    pal = Image.new("P", (1, 1))
    pal.putpalette(entries.ravel().tolist())
    return pal


def _sample_frames(
    frames: Iterable[Any], count: int
) -> tuple[list[np.ndarray], Iterator[Any], bool]:
    """Pick palette sample frames: evenly spaced from a sequence, else the first ``count``.

    Returns the sample, an iterator over *all* frames (buffered ones replayed first), and
    whether the sample covered the whole clip (a sequence) or only its start (a stream).
    """
    if hasattr(frames, "__len__") and hasattr(frames, "__getitem__"):
        n = len(frames)  # type: ignore[arg-type]
        picks = sorted(set(np.linspace(0, max(n - 1, 0), min(count, n)).astype(int).tolist()))
        sample = [_as_rgb_frame(frames[i], i, None) for i in picks]  # type: ignore[index]
        return sample, iter(frames), True
    it = iter(frames)
    head = list(itertools.islice(it, count))
    sample = [_as_rgb_frame(f, i, None) for i, f in enumerate(head)]
    return sample, itertools.chain(head, it), False


def _quantised(
    stream: Iterator[Any], pal_img: Image.Image | None, colors: int, dither: Image.Dither,
    ctx: JobContext | None, count: int | None,
) -> Iterator[Image.Image]:
    """Check, palettise and yield frames one by one, reporting progress and honouring cancel."""
    size = None
    for i, frame in enumerate(stream):
        if ctx is not None:
            ctx.check()
        rgb = _as_rgb_frame(frame, i, size)
        size = rgb.shape[:2]
        img = Image.fromarray(rgb)
        if pal_img is not None:
            yield img.quantize(palette=pal_img, dither=dither)
        else:
            yield img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=dither)
        if ctx is not None:
            ctx.progress(i + 1, count)


def write_gif(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 12.0,
    loop: bool = True,
    ctx: JobContext | None = None,
    palette: str = "global",
    colors: int = 256,
    dither: bool = True,
    sample_frames: int = 12,
    total: int | None = None,
) -> Path:
    """Write frames as an animated GIF.

    Args:
        frames: HxWx3 (or HxW / HxWx1 / HxWx4, alpha dropped) uint8 frames, all one size.
        path: target ``.gif`` file.
        fps: frames per second, in (0, 50].
        loop: loop forever (NETSCAPE extension, loop count 0); False plays once.
        ctx: job context for progress (frames written) and cancellation.
        palette: ``"global"``: one palette from ``sample_frames`` frames (evenly spaced when
            ``frames`` is a sequence; otherwise the first ones, plus a coarse 64-colour cube
            for colours that appear later); ``"adaptive"``: one palette per frame.
        colors: palette size, 2..256.
        dither: Floyd-Steinberg dithering against the palette.
        total: frame count for progress when ``frames`` has no ``len``.

    Returns:
        ``Path(path)``.

    Raises:
        ImageError: on a bad frame (dtype, shape, size differing from frame 0).
        ExportError: on no frames or an unwritable path.
        ValueError: on bad fps / palette / colors.
        Cancelled: if ``ctx`` was cancelled (no file is left).

    >>> import tempfile, os
    >>> frames = (np.full((4, 6, 3), 40 * i, np.uint8) for i in range(3))
    >>> out = write_gif(frames, os.path.join(tempfile.mkdtemp(), "a.gif"), fps=10)
    >>> with Image.open(out) as gif:
    ...     gif.n_frames
    3
    """
    _check_fps(fps, GIF_MAX_FPS)
    if palette not in GIF_PALETTES:
        raise ValueError(f"palette must be one of {', '.join(GIF_PALETTES)}, got {palette!r}")
    if not 2 <= colors <= 256:
        raise ValueError(f"colors must be in 2..256, got {colors}")
    count = _total(frames, total)
    pal_img = None
    if palette == "global":
        sample, stream, whole = _sample_frames(frames, max(1, sample_frames))
        if not sample:
            raise ExportError(f"cannot write {Path(path).name}: there are no frames")
        pal_img = _gif_palette(sample, colors, reserve_cube=not whole)
        del sample
    else:
        stream = iter(frames)
    mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    gen = _quantised(stream, pal_img, colors, mode, ctx, count)
    first = next(gen, None)
    if first is None:
        raise ExportError(f"cannot write {Path(path).name}: there are no frames")
    options: dict[str, Any] = {"duration": 1000.0 / fps, "optimize": False}
    if loop:
        options["loop"] = 0
    with atomic_path(path) as tmp:
        first.save(tmp, format="GIF", save_all=True, append_images=gen, **options)
    return Path(path)


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad an HxWx3 frame by one edge pixel where H or W is odd (yuv420p needs even sizes)."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.ascontiguousarray(np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge"))


def _ffmpeg_writer() -> Any:
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise ExportError(
            "writing MP4 needs the imageio-ffmpeg package: pip install imageio-ffmpeg "
            "(or pip install 'batikstudio[video]')"
        ) from exc
    return imageio_ffmpeg.write_frames


def write_mp4(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 24.0,
    quality: float = 8.0,
    ctx: JobContext | None = None,
    total: int | None = None,
) -> Path:
    """Stream frames into an H.264 / yuv420p MP4 file, one frame at a time.

    Args:
        frames: HxWx3 (or HxW / HxWx1 / HxWx4, alpha dropped) uint8 frames, all one size;
            consumed lazily, never collected.
        path: target file (always written as MP4, whatever the suffix).
        fps: frames per second, in (0, 240].
        quality: 1 (smallest file) .. 10 (best); maps to x264 CRF 51 * (1 - quality / 10).
        ctx: job context for progress (frames written) and cancellation.
        total: frame count for progress when ``frames`` has no ``len``.

    Returns:
        ``Path(path)``; odd frame sizes come out padded to even.

    Raises:
        ImageError: on a bad frame. ExportError: when imageio-ffmpeg is missing, ffmpeg
        fails, there are no frames, or the path is unwritable. ValueError: bad fps/quality.
        Cancelled: if ``ctx`` was cancelled (no file is left).

    >>> import tempfile, os
    >>> frames = (np.full((5, 7, 3), 30 * i, np.uint8) for i in range(4))
    >>> write_mp4(frames, os.path.join(tempfile.mkdtemp(), "a.mp4"), fps=8).suffix
    '.mp4'
    """
    _check_fps(fps, 240)
    if not 1 <= quality <= 10:
        raise ValueError(f"quality must be in 1..10, got {quality}")
    write_frames = _ffmpeg_writer()
    count = _total(frames, total)
    stream = iter(frames)
    first = next(stream, None)
    if first is None:
        raise ExportError(f"cannot write {Path(path).name}: there are no frames")
    first = _as_rgb_frame(first, 0, None)
    size = first.shape[:2]
    height, width = _even(first).shape[:2]
    with atomic_path(path) as tmp:
        writer = write_frames(
            str(tmp), (width, height), fps=float(fps), quality=float(quality),
            codec="libx264", pix_fmt_out="yuv420p", macro_block_size=2,
            ffmpeg_log_level="error", output_params=["-f", "mp4", "-movflags", "+faststart"],
        )
        try:
            writer.send(None)
            writer.send(_even(first))
            del first
            if ctx is not None:
                ctx.progress(1, count)
            for i, frame in enumerate(stream, start=1):
                if ctx is not None:
                    ctx.check()
                writer.send(_even(_as_rgb_frame(frame, i, size)))
                del frame  # drop our reference before pulling the next frame
                if ctx is not None:
                    ctx.progress(i + 1, count)
        except (OSError, RuntimeError) as exc:
            raise ExportError(f"cannot write {Path(path).name}: ffmpeg failed ({exc})") from exc
        finally:
            writer.close()
    return Path(path)


def write_animation(
    frames: Iterable[np.ndarray], path: str | os.PathLike[str], fps: float, **options: Any
) -> Path:
    """Write ``frames`` as a GIF or an MP4, chosen by the suffix of ``path``.

    Raises:
        ExportError: on a suffix other than ``.gif`` / ``.mp4``; see the writers for the rest.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        return write_gif(frames, path, fps, **options)
    if suffix == ".mp4":
        return write_mp4(frames, path, fps, **options)
    raise ExportError(f"unsupported animation format {suffix!r}: use .gif or .mp4")
