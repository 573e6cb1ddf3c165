"""How close are generated glyphs to real characters? A crude pixel reader, calibrated on real fonts.

usage: python docs/ablation/kai_nearest.py MODEL [--per-font 250] [--psi 1] [--panel OUT.png]

For a character model (one with a character table, ``--layout`` in training) it also says how
often a glyph reads as *the character it was asked for* (each seed writes its own character), and
does the same for characters the model never saw: real characters outside GB2312, their layouts
taken from the three fonts that draw them.

The reader: every glyph becomes its ink blurred (sigma 1.5 px) at 32 px, centred and normalised;
the distance of two glyphs is 1 - the cosine of those vectors. The gallery is the 6,763 GB2312
characters in each of the four training fonts (27,052 glyphs).

Calibration on real glyphs, so that the numbers mean something: a character drawn in one font is
read against the other three fonts' glyphs. "same-character distance" is its distance to the
nearest rendition of the same character in another font, and "reader accuracy" how often the
nearest glyph of all is that character. A generated glyph is then said to "read as" its nearest
gallery character when it is at least as close to it as the median same-character distance,
i.e. it is as near to a real character as that character's other-font renditions are.

For comparison, real characters outside GB2312 (never trained on; every 5th code point of
U+4E00-U+9FA5 that the three fonts covering them draw) go through the same test: they are real
Kai characters, but not in the gallery, so they say what the reader gives for a real character
it has not seen (the floor for a pseudo-character detector).
"""
import argparse, sys, time
import numpy as np
import torch
torch.set_num_threads(1)
import cv2
from PIL import Image
from batikstudio.io.models import open_model
from batikstudio.motifs.calligraphy import GlyphRenderer, gb2312_chars, parse_font_arg
from batikstudio.render.engine import render
from batikstudio.render.request import RenderRequest

K = "/usr/share/fonts/truetype"
FONTS = [f"{K}/arphic/ukai.ttc#0", f"{K}/arphic-gkai00mp/gkai00mp.ttf",
         f"{K}/lxgw-wenkai/LXGWWenKai-Light.ttf", f"{K}/cns11643/TW-Kai-98_1.ttf"]


def features(glyphs: np.ndarray) -> np.ndarray:
    """[N, 64, 64] uint8 (black ink on white) -> [N, 1024] float32 unit vectors."""
    out = np.empty((len(glyphs), 32 * 32), np.float32)
    for i, g in enumerate(glyphs):
        ink = 1.0 - g.astype(np.float32) / 255.0
        ink = cv2.GaussianBlur(ink, (0, 0), 1.5)
        v = cv2.resize(ink, (32, 32), interpolation=cv2.INTER_AREA).ravel()
        v = v - v.mean()
        out[i] = v / max(float(np.linalg.norm(v)), 1e-6)
    return out


def nearest(q: np.ndarray, gallery: np.ndarray, mask_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index and distance of each query's nearest gallery vector (rows in ``mask_rows`` excluded)."""
    idx, dist = np.empty(len(q), np.int64), np.empty(len(q), np.float32)
    for s in range(0, len(q), 256):
        sim = q[s:s + 256] @ gallery.T
        if mask_rows is not None:
            sim[:, mask_rows] = -2.0
        j = sim.argmax(1)
        idx[s:s + 256], dist[s:s + 256] = j, 1.0 - sim[np.arange(len(j)), j]
    return idx, dist


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--per-font", type=int, default=250)
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--panel", default=None, help="PNG: generated glyph | nearest real glyph, seeds 0-9 x fonts")
    a = ap.parse_args()
    t0 = time.time()
    chars = gb2312_chars()
    rs = [GlyphRenderer(*parse_font_arg(f), 64) for f in FONTS]
    glyphs, owner, font_of = [], [], []
    for k, r in enumerate(rs):
        for ci, ch in enumerate(chars):
            g = r.render(ch)
            if g is not None:
                glyphs.append(g); owner.append(ci); font_of.append(k)
    glyphs, owner, font_of = np.stack(glyphs), np.array(owner), np.array(font_of)
    gal = features(glyphs)
    print(f"gallery: {len(gal)} glyphs of {len(chars)} characters, {time.time() - t0:.0f}s", flush=True)

    # calibration: 500 random characters per font, read against the other fonts
    rng = np.random.default_rng(0)
    same_d, hits = [], 0
    for k in range(len(rs)):
        rows = rng.choice(np.flatnonzero(font_of == k), 500, replace=False)
        j, _ = nearest(gal[rows], gal, mask_rows=np.flatnonzero(font_of == k))
        hits += int((owner[j] == owner[rows]).sum())
        for r in rows:
            same = np.flatnonzero((owner == owner[r]) & (font_of != k))
            same_d.append(1.0 - float((gal[same] @ gal[r]).max()))
    same_d = np.array(same_d)
    thr = float(np.median(same_d))
    print(f"reader accuracy on real glyphs across fonts: {hits / (500 * len(rs)):.3f}; same-character "
          f"distance median {thr:.3f} (quartiles {np.quantile(same_d, 0.25):.3f} / {np.quantile(same_d, 0.75):.3f})")

    # real characters outside the gallery
    gb = set(chars)
    outside = [chr(c) for c in range(0x4E00, 0x9FA6, 5) if chr(c) not in gb][:400]
    out_rend = [[r.render(ch) for ch in outside] for r in (rs[0], rs[2], rs[3])]
    real_out = [g for row in out_rend for g in row if g is not None]
    _, d_out = nearest(features(np.stack(real_out)), gal)
    print(f"real characters outside GB2312 ({len(real_out)} glyphs): nearest distance median {np.median(d_out):.3f}, "
          f"read as a GB2312 character {np.mean(d_out <= thr):.3f}")

    model = open_model(a.model)
    cond = model.G_ema.c_dim > 0
    classes = model.G_ema.c_dim if cond else 1
    requests = [RenderRequest(seeds=tuple(range(a.per_font)), class_index=k if cond else None, psi=a.psi,
                              tileable=bool(model.trained_tileable)) for k in range(classes)]
    fake = np.concatenate([render(model, req, batch_size=50).images[..., 0] for req in requests])
    fake_font = np.repeat(np.arange(classes), a.per_font)
    j, d = nearest(features(fake), gal)
    print(f"{a.model} psi {a.psi}: {len(fake)} glyphs, nearest distance median {np.median(d):.3f} "
          f"(quartiles {np.quantile(d, 0.25):.3f} / {np.quantile(d, 0.75):.3f}), "
          f"read as a character {np.mean(d <= thr):.3f}")
    for k in range(classes):
        dk = d[fake_font == k]
        print(f"  font {k}: median {np.median(dk):.3f}, read {np.mean(dk <= thr):.3f}")
    if model.G_ema.characters:
        asked = [model.G_ema.seed_characters(range(a.per_font))] * classes
        index = {ch: i for i, ch in enumerate(chars)}
        want = np.array([index[ch] for row in asked for ch in row])
        ok = owner[j] == want
        print(f"character model: read as the character asked for {ok.mean():.3f} of {len(ok)} "
              f"(distance to the nearest rendition of that character, median "
              f"{np.median([1 - (gal[owner == w] @ q).max() for w, q in zip(want, features(fake))]):.3f})")
        unseen_glyphs(model, outside, out_rend, gal, owner, a.psi)
    if a.panel:
        cols = 10
        tile = 66
        panel = Image.new("L", (cols * 2 * tile + (cols - 1) * 6, classes * tile), 255)
        for k in range(classes):
            for s in range(cols):
                i = k * a.per_font + s
                x = s * (2 * tile + 6)
                panel.paste(Image.fromarray(fake[i]), (x, k * tile))
                panel.paste(Image.fromarray(glyphs[j[i]]), (x + tile, k * tile))
        panel.save(a.panel)
        print("panel:", a.panel, "(pairs: generated | nearest GB2312 glyph; seeds 0-9, one row per font)")
    print(f"{time.time() - t0:.0f}s", file=sys.stderr)


def unseen_glyphs(model, outside, out_rend, gal, owner, psi) -> None:
    """Characters outside GB2312 (not in the model's table): written from layouts of the three
    fonts that draw them; read against the GB2312 gallery plus those real glyphs."""
    from batikstudio.core.latents import seeds_to_z
    from batikstudio.core.nets.layout import ink_layouts, standardise_layouts

    G = model.G_ema
    keep = [i for i in range(len(outside)) if all(row[i] is not None for row in out_rend)]
    L = G.cfg.layout_res
    ink = np.stack([np.stack([row[i] for row in out_rend]) for i in keep])  # [n, 3, 64, 64]
    lay = standardise_layouts(ink_layouts(ink.reshape(-1, 1, 64, 64), L).reshape(len(keep), 3, -1).mean(1))
    real = np.stack([row[i] for i in keep for row in out_rend])
    real_owner = np.repeat(np.arange(len(keep)) + owner.max() + 1, 3)
    big, big_owner = np.concatenate([gal, features(real)]), np.concatenate([owner, real_owner])
    with torch.no_grad():
        z = seeds_to_z(range(len(keep)), G.z_dim, torch.device("cpu"))
        imgs = []
        for k in (0, 2, 3):
            c = torch.zeros(len(keep), G.c_dim)
            c[:, k] = 1
            ws = G.mapping(z, c, truncation_psi=psi)
            imgs.append(G.synthesis(ws, layout=torch.from_numpy(lay).reshape(-1, 1, L, L)))
    x = (torch.cat(imgs)[:, 0] * 127.5 + 128).clamp(0, 255).to(torch.uint8).numpy()
    j, _ = nearest(features(x), big)
    want = np.tile(np.arange(len(keep)) + owner.max() + 1, 3)
    print(f"unseen characters ({len(keep)} x 3 fonts, layouts from their real glyphs): read as the character "
          f"asked for {(big_owner[j] == want).mean():.3f}")


if __name__ == "__main__":
    main()
