"""One training iteration: the G phase, the D phase, lazy regularisation, EMA, strength updates.

:class:`Trainer` owns the optimisers, the augmentation pipeline, the Diffusion-GAN noise and
the per-tick loss statistics; :mod:`batikstudio.training.loop` owns the schedule (ticks,
snapshots, cancellation). Images are NCHW float in [-1, 1]; labels one-hot [N, c_dim]
(``[N, 0]`` when unconditional).

Fast path (``TrainConfig.fast_path``, default): one generator forward and one D pass over
the fakes per iteration serve both losses (G's gradient and D's are taken from the same
pre-update networks, then both optimisers step); the generator uses the nets' CPU-friendly
convolutions. ``fast_path=False`` follows the NVlabs loop: a G step, then a D step on a
second batch rendered by the updated G, with the reference (grouped / upfirdn) convolutions.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import numpy as np
import torch

from batikstudio import runtime
from batikstudio.training import losses
from batikstudio.training.augment import ada_adjust, build_augment
from batikstudio.training.config import TrainConfig
from batikstudio.training.data import RealSampler
from batikstudio.training.diffusion import DiffusionNoise
from batikstudio.training.distributed import DistInfo, all_mean, average_buffers, average_gradients
from batikstudio.training.ema import ema_beta, update_ema

log = logging.getLogger(__name__)


def set_requires_grad(module: torch.nn.Module, flag: bool, frozen: frozenset[str] = frozenset()) -> None:
    """Switch gradients of ``module``'s parameters, keeping ``frozen`` names off."""
    for name, p in module.named_parameters():
        p.requires_grad_(flag and name not in frozen)


def frozen_d_params(D: torch.nn.Module, resolution: int, n_blocks: int) -> frozenset[str]:
    """Names of the parameters of D's first ``n_blocks`` blocks (``b{res}``, highest res first)."""
    if n_blocks <= 0:
        return frozenset()
    res_list = []
    r = resolution
    while r >= 8 and len(res_list) < n_blocks:
        res_list.append(r)
        r //= 2
    heads = tuple(f"b{r}." for r in res_list)
    return frozenset(n for n, _ in D.named_parameters() if n.startswith(heads))


def frozen_g_params(G: torch.nn.Module, top_blocks: int) -> frozenset[str]:
    """Names of every parameter of ``G`` outside its top ``top_blocks`` synthesis blocks (none when 0)."""
    if top_blocks <= 0:
        return frozenset()
    if not hasattr(G, "synthesis"):
        raise ValueError("training only the top blocks of G (--train-g-top) needs a StyleGAN2 generator")
    res = G.synthesis.block_resolutions[-top_blocks:]
    trained = tuple(f"synthesis.b{r}." for r in res)
    return frozenset(n for n, _ in G.named_parameters() if not n.startswith(trained))


def silenced_noise_params(G: torch.nn.Module, max_res: int) -> frozenset[str]:
    """Names of the noise strengths of ``G``'s synthesis layers above ``max_res`` px (none when 0)."""
    if max_res <= 0:
        return frozenset()
    if not hasattr(G, "synthesis"):
        raise ValueError("switching off noise inputs (--noise-max-res) needs a StyleGAN2 generator")
    return frozenset(f"synthesis.{name}.noise_strength" for name, m in G.synthesis.named_modules()
                     if getattr(m, "use_noise", False) and m.resolution > max_res)


class Trainer:
    """Holds everything one iteration needs.

    Args:
        cfg: run options.
        G, D, G_ema: networks on ``device`` (G_ema is only updated, never trained).
        sampler: the real-data / latent sampler.
        device: where the nets live.
        info: this process's place in a multi-process run.
        resolution: training resolution.
        diffusion_rng: numpy generator of the Diffusion-GAN t table (shared by processes).
    """

    def __init__(self, cfg: TrainConfig, G: torch.nn.Module, D: torch.nn.Module, G_ema: torch.nn.Module,
                 sampler: RealSampler, device: torch.device, info: DistInfo, resolution: int,
                 diffusion_rng: np.random.Generator | None = None) -> None:
        self.cfg, self.G, self.D, self.G_ema = cfg, G, D, G_ema
        self.sampler, self.device, self.info = sampler, device, info
        self.resolution = resolution
        self.z_dim = int(G.z_dim)
        # a character model's labels carry the layout after the one-hot class
        self.layout_res = int(getattr(G, "layout_res", 0) or 0)
        self.layout_by_class = bool(getattr(getattr(G, "cfg", None), "layout_by_class", False))
        if cfg.recon_weight > 0 and not self.layout_res:
            raise ValueError("the reconstruction term (--recon) needs a character model (--layout)")
        if self.layout_res and sampler.extra_dim != self.layout_res ** 2:
            raise ValueError("a character model trains on labels that carry layouts (a data set that names "
                             "each glyph's character, with --layout)")
        self.r1_gamma = cfg.effective_r1_gamma(resolution)
        self.use_r1 = (cfg.loss == "stylegan2" or cfg.gp == "r1") and self.r1_gamma > 0
        self.use_pl = cfg.pl_weight > 0
        self.frozen_d = frozen_d_params(D, resolution, cfg.freeze_d)
        self.silenced_noise = silenced_noise_params(G, cfg.noise_max_res)
        self.frozen_g = frozen_g_params(G, cfg.train_g_top) | self.silenced_noise
        if cfg.mismatch_weight > 0 and sampler.c_dim < 2:
            raise ValueError("the mismatch term shows real images under wrong classes: it needs a conditional "
                             f"run (--cond) with at least two classes, this one has {sampler.c_dim}")
        self.opt_G = self._adam(G, cfg.pl_interval if self.use_pl else None)
        self.opt_D = self._adam(D, cfg.r1_interval if self.use_r1 else None)
        self.augment = build_augment(cfg)
        self.diffusion = (DiffusionNoise(cfg.diffusion, rng=diffusion_rng or np.random.default_rng(cfg.seed))
                          if cfg.diffusion.enabled else None)
        self.pl = losses.PathLength()
        self.nimg = 0
        self.batch_idx = 0
        self.ada_acc = torch.zeros(2, dtype=torch.float64)
        self.diff_acc = torch.zeros(2, dtype=torch.float64)
        self.stats: dict[str, list[float]] = {}
        self.amp_dtype, self.scalers = self._amp_setup()
        # CPU bf16 on the fast path: whole blocks run in bfloat16 (like NVlabs' fp16 blocks on
        # CUDA), so bias, activation and noise stay in bf16 between the convolutions instead of
        # being promoted to float32 and cast back for every layer.
        self.block_dtype = (torch.bfloat16 if self.amp_dtype == torch.bfloat16 and device.type == "cpu"
                            and cfg.fast_path else None)
        # The passes that are differentiated twice (R1, path length, WGAN-GP). On AMX CPUs they
        # run in float32: for a double backward autograd builds convolutions whose kernel is the
        # whole feature map, and oneDNN's AMX bf16 kernels die with SIGFPE on some of those shapes
        # (measured with torch 2.13: a batch of 8 RGB images at 256 px, i.e. NVlabs' paper256, in
        # D's first layer; the same op passes with oneDNN held to AVX512-BF16). A signal cannot be
        # caught, so the process (the app, with the trainer in a thread) would go down with it.
        self.twice_blocks = None if self.block_dtype is not None and runtime.cpu_has_amx() else self.block_dtype
        set_requires_grad(G_ema, False)
        if self.frozen_g:  # the fixed layers are G_ema's (what the app draws), so the average cannot drift
            with torch.no_grad():
                ema = dict(G_ema.named_parameters())
                for name in self.silenced_noise:  # a zero strength adds no noise in any noise mode
                    ema[name].zero_()
                for name, param in G.named_parameters():
                    if name in self.frozen_g:
                        param.copy_(ema[name])

    # -- setup ----------------------------------------------------------------------------
    def _adam(self, net: torch.nn.Module, reg_interval: int | None) -> torch.optim.Adam:
        ratio = reg_interval / (reg_interval + 1) if reg_interval else 1.0
        b1, b2 = self.cfg.betas
        # The fused CPU kernel updates a tensor in one pass instead of about ten small ops per tensor.
        fused = True if self.device.type == "cpu" else None
        return torch.optim.Adam(net.parameters(), lr=self.cfg.lr * ratio, betas=(b1**ratio, b2**ratio), eps=1e-8,
                                fused=fused)

    def _amp_setup(self) -> tuple[torch.dtype | None, dict[str, Any]]:
        if self.device.type == "cpu" and self.cfg.cpu_bf16:
            if runtime.cpu_has_native_bf16():
                return torch.bfloat16, {}  # bf16 keeps float32's range: no gradient scaling needed
            # Emulated bf16 would be slower than float32: say so rather than ignore the option.
            log.warning("cpu_bf16: this CPU has no native bfloat16 (AVX512-BF16 or AMX); training in float32")
            return None, {}
        if not (self.cfg.mixed_precision and self.device.type == "cuda"):
            return None, {}
        if torch.cuda.is_bf16_supported():
            return torch.bfloat16, {}
        return torch.float16, {"G": torch.amp.GradScaler("cuda"), "D": torch.amp.GradScaler("cuda")}

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    # -- building blocks ------------------------------------------------------------------
    def _split(self, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Labels -> (one-hot classes, layouts [N, 1, L, L] or None)."""
        if not self.layout_res:
            return c, None
        L = self.layout_res
        return c[:, :-L * L], c[:, -L * L:].reshape(-1, 1, L, L)

    def run_G(self, z: torch.Tensor, c: torch.Tensor, twice: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Images [N, C, R, R] and ws [N, num_ws, w_dim] with style mixing (``twice``: for a
        pass that is differentiated twice)."""
        c, layout = self._split(c)
        ws = self.G.mapping(z, c, update_emas=True)
        if self.cfg.style_mixing_prob > 0:
            z2 = self.sampler.next_z(z.shape[0] * self.info.world_size, self.z_dim, self.device)
            ws2 = self.G.mapping(z2, c, update_emas=False)
            ws = losses.mix_styles(ws, ws2, self.cfg.style_mixing_prob, self.sampler.generator)
        # With the diversity term on, the pairs it compares share their noise maps: only z can part them.
        noise_mode = "paired" if self.cfg.diversity_weight > 0 else "random"
        extra = {} if layout is None else {"layout": layout}
        img = self.G.synthesis(ws, noise_mode=noise_mode, fast=self.cfg.fast_path, tileable=self.cfg.tileable,
                               dtype=self.twice_blocks if twice else self.block_dtype, **extra)
        return img, ws

    def run_D(self, img: torch.Tensor, c: torch.Tensor, twice: bool = False) -> torch.Tensor:
        """Logits [N, 1]: augmentation, then Diffusion-GAN noise (t fed to D), then D
        (``twice``: for a pass that is differentiated twice)."""
        dtype = self.twice_blocks if twice else self.block_dtype
        c = self._split(c)[0]
        if self.augment is not None:
            img = self.augment(img)
        if self.diffusion is not None:
            img, t = self.diffusion(img)
            return self.D(img, c, t, dtype=dtype, fast=self.cfg.fast_path)
        return self.D(img, c, dtype=dtype, fast=self.cfg.fast_path)

    def _record(self, name: str, value: torch.Tensor) -> None:
        acc = self.stats.setdefault(name, [0.0, 0.0])
        acc[0] += float(value.detach().float().mean())
        acc[1] += 1

    def _backward(self, loss: torch.Tensor, net: torch.nn.Module, key: str, retain: bool = False) -> None:
        """Gradients of ``loss`` for ``net``'s trainable parameters only (not the other net's)."""
        params = [p for p in net.parameters() if p.requires_grad]
        scaler = self.scalers.get(key)
        (scaler.scale(loss) if scaler is not None else loss).backward(inputs=params, retain_graph=retain)

    def _step(self, net: torch.nn.Module, opt: torch.optim.Optimizer, key: str) -> None:
        scaler = self.scalers.get(key)
        if scaler is not None:
            scaler.unscale_(opt)
        average_gradients(net.parameters(), self.info)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)

    def _backward_step(self, loss: torch.Tensor, net: torch.nn.Module, opt: torch.optim.Optimizer, key: str) -> None:
        self._backward(loss, net, key)
        self._step(net, opt, key)

    # -- phases ---------------------------------------------------------------------------
    def _d_loss(self, fake_logits: torch.Tensor, fake: torch.Tensor, real: torch.Tensor,
                c_real: torch.Tensor) -> torch.Tensor:
        """D's main loss on fake logits plus a fresh pass over the reals (and WGAN-GP)."""
        with self._autocast():
            real_logits = self.run_D(real, c_real).float()
        loss = (losses.d_loss_fake(self.cfg.loss, fake_logits).mean()
                + losses.d_loss_real(self.cfg.loss, real_logits).mean())
        if self.cfg.mismatch_weight > 0:
            # matching-aware D: the same reals under wrong classes count as fake (a separate
            # pass, so minibatch-std groups never mix the two)
            wrong = self.sampler.next_wrong_labels(c_real, self.cfg.batch)
            with self._autocast():
                wrong_logits = self.run_D(real, wrong).float()
            self._record("D_wrong", wrong_logits)
            loss = loss + losses.d_loss_fake(self.cfg.loss, wrong_logits).mean() * self.cfg.mismatch_weight
        if self.cfg.loss == "wasserstein" and self.cfg.gp == "wgan-gp" and self.cfg.gp_weight > 0:
            gp = losses.wgan_gp_penalty(lambda x: self.run_D(x, c_real, twice=True).float(), real, fake.detach())
            self._record("gp", gp)
            loss = loss + gp.mean() * self.cfg.gp_weight
        self._record("D", loss)
        self._record("D_real", real_logits)
        self._record("D_fake", fake_logits)
        signs = torch.stack([real_logits.detach().sign().sum().double().cpu(),
                             torch.tensor(float(real_logits.numel()), dtype=torch.float64)])
        self.ada_acc += signs
        self.diff_acc += signs
        return loss

    def _joint_main(self, z: torch.Tensor, c: torch.Tensor, real: torch.Tensor, c_real: torch.Tensor) -> None:
        """Fast path: one G forward and one D pass over the fakes serve both G's and D's loss.

        Both updates are computed from the same (pre-update) networks, then applied.
        """
        set_requires_grad(self.G, True, self.frozen_g)
        set_requires_grad(self.D, True, self.frozen_d)
        with self._autocast():
            img, _ = self.run_G(z, c)
            fake_logits = self.run_D(img, c).float()
        loss_G = losses.g_loss(self.cfg.loss, fake_logits).mean()
        self._record("G", loss_G)
        loss_G = loss_G + self._diversity_term(img, z, c) + self._recon_term(img, real)
        self._backward(loss_G, self.G, "G", retain=True)
        self._backward(self._d_loss(fake_logits, img, real, c_real), self.D, "D")
        self._step(self.G, self.opt_G, "G")
        self._step(self.D, self.opt_D, "D")

    def _g_main(self, z: torch.Tensor, c: torch.Tensor, real: torch.Tensor) -> None:
        set_requires_grad(self.G, True, self.frozen_g)
        set_requires_grad(self.D, False)
        with self._autocast():
            img, _ = self.run_G(z, c)
            logits = self.run_D(img, c)
            loss = losses.g_loss(self.cfg.loss, logits.float()).mean()
        self._record("G", loss)
        loss = loss + self._diversity_term(img, z, c) + self._recon_term(img, real)
        self._backward_step(loss, self.G, self.opt_G, "G")

    def _diversity_term(self, img: torch.Tensor, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor | float:
        """``-weight * mean(diversity ratio)`` over same-class pairs of the batch (0 when off)."""
        if self.cfg.diversity_weight <= 0:
            return 0.0
        ratio = losses.diversity_ratio(img, z, self._split(c)[0], self.cfg.diversity_cap)
        if ratio is None:
            return 0.0
        self._record("div", ratio)
        return -self.cfg.diversity_weight * ratio.mean()

    def _recon_term(self, img: torch.Tensor, real: torch.Tensor) -> torch.Tensor | float:
        """``weight * reconstruction error`` of generated images drawn with the reals' labels
        (character models: each real glyph is the one right answer for its font and character;
        structure models: only the grey level at the layout's resolution is compared, so the
        arrangement is given and the fills, lines and colours are the generator's)."""
        if self.cfg.recon_weight <= 0:
            return 0.0
        if self.layout_by_class:
            err = losses.layout_error(img.float(), real.float(), self.layout_res)
        else:
            err = losses.recon_error(img.float(), real)
        self._record("recon", err)
        return self.cfg.recon_weight * err

    def _g_pl(self, z: torch.Tensor, c: torch.Tensor) -> None:
        set_requires_grad(self.G, True, self.frozen_g)
        n = max(z.shape[0] // 2, 1)
        img, ws = self.run_G(z[:n], c[:n], twice=True)
        penalty = self.pl.penalty(img.float(), ws)
        loss = (penalty * self.cfg.pl_weight).mean() * self.cfg.pl_interval + img[:, 0, 0, 0].float().mean() * 0
        self._record("pl", penalty)
        self._backward_step(loss, self.G, self.opt_G, "G")

    def _d_main(self, fake: torch.Tensor, c_fake: torch.Tensor, real: torch.Tensor, c_real: torch.Tensor) -> None:
        set_requires_grad(self.G, False)
        set_requires_grad(self.D, True, self.frozen_d)
        with self._autocast():
            fake_logits = self.run_D(fake, c_fake).float()
        self._backward_step(self._d_loss(fake_logits, fake, real, c_real), self.D, self.opt_D, "D")

    def _d_r1(self, real: torch.Tensor, c_real: torch.Tensor) -> None:
        set_requires_grad(self.G, False)
        set_requires_grad(self.D, True, self.frozen_d)
        real_tmp = real.detach().requires_grad_(True)
        logits = self.run_D(real_tmp, c_real, twice=True).float()
        penalty = losses.r1_penalty(real_tmp, logits)
        loss = (penalty * (self.r1_gamma / 2)).mean() * self.cfg.r1_interval + logits.mean() * 0
        self._record("r1", penalty)
        self._backward_step(loss, self.D, self.opt_D, "D")

    # -- one iteration --------------------------------------------------------------------
    def step(self) -> None:
        """One iteration over a global batch (this process does its share)."""
        cfg, dev, n = self.cfg, self.device, self.cfg.batch
        real, c_real = self.sampler.next_real(n, dev)
        z = self.sampler.next_z(n, self.z_dim, dev)
        # with the reconstruction term, generated images are drawn with the reals' labels, pairwise
        c_fake = c_real if cfg.recon_weight > 0 else self.sampler.next_fake_labels(n, dev)
        if cfg.fast_path:
            self._joint_main(z, c_fake, real, c_real)
        else:  # NVlabs order: G step, then D on a fresh batch from the updated G
            self._g_main(z, c_fake, real)
            z_d = self.sampler.next_z(n, self.z_dim, dev)
            set_requires_grad(self.G, False)
            with torch.no_grad(), self._autocast():
                fake, _ = self.run_G(z_d, c_fake)
            self._d_main(fake, c_fake, real, c_real)
        if self.use_pl and self.batch_idx % cfg.pl_interval == 0:
            self._g_pl(self.sampler.next_z(n, self.z_dim, dev), c_fake)
        if self.use_r1 and self.batch_idx % cfg.r1_interval == 0:
            self._d_r1(real, c_real)
        average_buffers(self.G, self.info)
        self.nimg += n
        self.batch_idx += 1
        beta = ema_beta(n, cfg.effective_ema_kimg(), self.nimg, cfg.ema_rampup)
        update_ema(self.G_ema, self.G, beta)
        self._adjust_strengths()

    def _adjust_strengths(self) -> None:
        cfg = self.cfg
        if cfg.augment == "ada" and self.augment is not None and self.batch_idx % cfg.ada_interval == 0:
            s, cnt = all_mean(self.ada_acc, self.info).tolist()
            if cnt > 0:
                self.augment.p = ada_adjust(self.augment.p, s / cnt, cfg.ada_target, cfg.batch,
                                            cfg.ada_interval, cfg.ada_kimg)
            self.ada_acc.zero_()
        dc = cfg.diffusion
        if self.diffusion is not None and self.batch_idx % dc.interval == 0:
            s, cnt = all_mean(self.diff_acc, self.info).tolist()
            if cnt > 0:
                self.diffusion.p = ada_adjust(self.diffusion.p, s / cnt, dc.target, cfg.batch,
                                              dc.interval, dc.ada_kimg)
                self.diffusion.update_T()
            self.diff_acc.zero_()

    # -- reporting ------------------------------------------------------------------------
    @property
    def augment_p(self) -> float:
        return float(self.augment.p) if self.augment is not None else 0.0

    def take_stats(self) -> dict[str, float]:
        """Mean of each recorded loss term since the last call (then reset)."""
        out = {k: v[0] / max(v[1], 1) for k, v in self.stats.items()}
        self.stats = {}
        return out
