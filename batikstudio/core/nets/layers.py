"""Building blocks shared by the generator and discriminator (NVlabs names and maths).

Equalised learning rate everywhere: weights are stored unscaled (``randn``) and multiplied by
``1/sqrt(fan_in)`` (times the layer's lr multiplier) at run time, exactly like NVlabs, so state
dicts load one to one. Tensors are NCHW float; activations roughly unit variance.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from batikstudio.core import ops
from batikstudio.core.nets.fast_conv import depthwise_fir, winograd_conv3x3, winograd_weight

__all__ = [
    "Conv2dLayer",
    "FullyConnectedLayer",
    "SynthesisLayer",
    "ToRGBLayer",
    "modulated_conv2d",
]


# Channels-last activations pay off from about 32x32 pixels on CPU (oneDNN); smaller maps stay NCHW.
CHANNELS_LAST_MIN = 32
# Winograd F(2x2, 3x3) beats oneDNN's direct 3x3 conv from about this many input channels
# (measured on a 2-core AVX-512 machine; with fewer channels the tile transforms dominate).
_WINOGRAD_MIN_CHANNELS = 128


class FullyConnectedLayer(torch.nn.Module):
    """Dense layer with equalised learning rate.

    Args:
        in_features, out_features: sizes.
        bias: learn an additive bias.
        activation: ``'linear'``, ``'relu'`` or ``'lrelu'`` (lrelu output gain sqrt 2).
        lr_multiplier: learning-rate multiplier (weights stored divided by it).
        bias_init: initial bias value (1 for style affines).

    Input ``[N, in_features]`` -> output ``[N, out_features]``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        self.weight = torch.nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = torch.nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return ops.bias_act(x.matmul(w.t()), b, act=self.activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"


class Conv2dLayer(torch.nn.Module):
    """Convolution with equalised LR, optional FIR up/downsampling, bias, activation, clamp.

    Args:
        in_channels, out_channels: channel counts.
        kernel_size: square kernel size (padding ``kernel_size // 2``).
        bias: learn a bias.
        activation: activation name.
        up, down: resampling factor (one of them 1).
        resample_filter: 1-D FIR taps.
        conv_clamp: clamp the output to +-this times the gain (None = off).

    Input ``[N, Cin, H, W]`` -> ``[N, Cout, H*up/down, W*up/down]``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: str = "linear", up: int = 1, down: int = 1,
                 resample_filter=(1, 3, 3, 1), conv_clamp: float | None = None) -> None:
        super().__init__()
        self.activation = activation
        self.up = up
        self.down = down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.act_gain = ops.ACTIVATIONS[activation][1]
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels])) if bias else None

    def forward(self, x: torch.Tensor, gain: float = 1.0, circular: bool = False, fast: bool = False) -> torch.Tensor:
        """``fast``: the CPU-friendly arrangement of the same maths (see :meth:`_forward_fast`)."""
        if fast and not circular and self.up == 1:
            return self._forward_fast(x, gain)
        w = (self.weight * self.weight_gain).to(x.dtype)
        b = self.bias.to(x.dtype) if self.bias is not None else None
        x = ops.conv2d_resample(x, w, self.resample_filter, up=self.up, down=self.down,
                                padding=self.padding, circular=circular)
        act_gain = self.act_gain * gain
        act_clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(x, b, act=self.activation, gain=act_gain, clamp=act_clamp)

    def _forward_fast(self, x: torch.Tensor, gain: float) -> torch.Tensor:
        """Gains folded into the weight and bias (every activation here is positively
        homogeneous), the bias added by the convolution, the FIR filter padded by the
        convolution itself (no padded copy): one elementwise pass after the conv instead of three.
        """
        g = self.act_gain * gain
        w = (self.weight * (self.weight_gain * g)).to(x.dtype)
        b = (self.bias * g).to(x.dtype) if self.bias is not None else None
        if self.down > 1:
            f = self.resample_filter
            p0, p1 = ops._down_pads(f, self.down)
            pad = self.padding + p0
            if p0 != p1:
                x = F.pad(x, [0, p1 - p0, 0, p1 - p0])
            fir = f.to(x.dtype).flip([0, 1])[None, None].expand(x.shape[1], 1, -1, -1).contiguous()
            x = depthwise_fir(x, fir, pad)
            x = F.conv2d(x, w, b, stride=self.down)
        else:
            x = F.conv2d(x, w, b, padding=self.padding)
        if self.activation == "lrelu":
            x = F.leaky_relu(x, 0.2)
        elif self.activation != "linear":
            x = ops.ACTIVATIONS[self.activation][0](x, 0.2)
        if self.conv_clamp is not None:
            x = x.clamp(-self.conv_clamp * gain, self.conv_clamp * gain)
        return x


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    noise: torch.Tensor | None = None,
    up: int = 1,
    resample_filter: torch.Tensor | None = None,
    demodulate: bool = True,
    fused_modconv: bool = True,
    circular: bool = False,
) -> torch.Tensor:
    """StyleGAN2 modulated convolution (padding ``k // 2``), the NVlabs arrangement.

    ``w' = W * s`` per input channel, optionally demodulated per output channel by
    ``rsqrt(sum(w'^2) + 1e-8)``; noise is added after the conv.

    Args:
        x: ``[N, Cin, H, W]``.
        weight: ``[Cout, Cin, k, k]`` (unscaled; demodulation makes the scale irrelevant).
        styles: ``[N, Cin]``.
        noise: broadcastable to the output, or None.
        up: 1 or 2 (transposed conv + FIR).
        resample_filter: ``[4, 4]`` FIR filter for ``up=2``.
        demodulate: apply demodulation.
        fused_modconv: one grouped conv (True) or scale-conv-scale (False).
        circular: periodic input (seamless tiling).

    Returns:
        ``[N, Cout, H*up, W*up]`` in ``x.dtype``.
    """
    n = x.shape[0]
    cout, cin, kh, kw = weight.shape
    if styles.shape != (n, cin):
        raise ValueError(f"styles shape {tuple(styles.shape)} does not match [N={n}, Cin={cin}]")
    if x.dtype == torch.float16 and demodulate:
        # NVlabs pre-normalisation against float16 overflow (cancels out under demodulation).
        weight = weight * (1 / math.sqrt(cin * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
    fold = fused_modconv
    w = dcoefs = None
    if demodulate or fold:
        w = weight.unsqueeze(0) * styles.reshape(n, 1, -1, 1, 1)  # [N, O, I, k, k]
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]
    if demodulate and fold:
        w = w * dcoefs.reshape(n, -1, 1, 1, 1)

    if not fold:
        x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
        x = ops.conv2d_resample(x, weight.to(x.dtype), resample_filter, up=up, padding=kw // 2, circular=circular)
        if demodulate:
            x = x * dcoefs.to(x.dtype).reshape(n, -1, 1, 1)
        if noise is not None:
            x = x + noise.to(x.dtype)
        return x

    x = x.reshape(1, -1, *x.shape[2:])
    x = ops.conv2d_resample(x, w.reshape(-1, cin, kh, kw).to(x.dtype), resample_filter, up=up,
                            padding=kw // 2, groups=n, circular=circular)
    x = x.reshape(n, -1, *x.shape[2:])
    if noise is not None:
        x = x + noise.to(x.dtype)
    return x


def paired(t: torch.Tensor) -> torch.Tensor:
    """``t`` with item ``i + N // 2`` replaced by item ``i`` for ``i < N // 2`` (a copy).

    Training's diversity term compares exactly these pairs; sharing their noise maps leaves
    the latent as the only thing that can make the two images differ.
    """
    n = t.shape[0] // 2
    return torch.cat([t[:n], t[:n], t[2 * n:]])


class SynthesisLayer(torch.nn.Module):
    """Modulated 3x3 conv + noise + bias + lrelu (optionally upsampling by 2).

    Args:
        in_channels, out_channels: channel counts.
        w_dim: W size (the affine maps W to ``in_channels`` styles, bias init 1).
        resolution: output resolution (the noise map size).
        up: 1 or 2.
        use_noise: learnable-strength noise input (``noise_const`` buffer for 'const').
        resample_filter: 1-D FIR taps.
        conv_clamp: clamp to +-this (times gain).

    Input ``[N, Cin, R/up, R/up]`` and ``w [N, w_dim]`` -> ``[N, Cout, R, R]``.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: int = 1,
                 use_noise: bool = True, resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter))
        self.act_gain = ops.ACTIVATIONS["lrelu"][1]
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, 3, 3]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = torch.nn.Parameter(torch.zeros([]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random", fused_modconv: bool = True,
                gain: float = 1.0, noise_gain: float = 1.0, circular: bool = False,
                fast: bool = False) -> torch.Tensor:
        """``x [N, Cin, R/up, R/up]``, ``w [N, w_dim]`` -> ``[N, Cout, R, R]``.

        ``gain`` scales the output (and the clamp), ``noise_gain`` the noise; ``fast`` selects
        the CPU-friendly arrangement (same maths), otherwise NVlabs' ``fused_modconv`` choice.
        """
        if noise_mode not in ("random", "paired", "const", "none"):
            raise ValueError(f"noise_mode must be 'random', 'paired', 'const' or 'none', got {noise_mode!r}")
        in_res = self.resolution // self.up
        if x.ndim != 4 or x.shape[1] != self.weight.shape[1] or x.shape[2:] != (in_res, in_res):
            raise ValueError(f"expected [N, {self.weight.shape[1]}, {in_res}, {in_res}], got {tuple(x.shape)}")
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode != "none" and noise_gain != 0:
            if noise_mode in ("random", "paired"):
                noise = torch.randn([x.shape[0], 1, self.resolution, self.resolution], device=x.device)
                if noise_mode == "paired":
                    noise = paired(noise)
                noise = noise * self.noise_strength
            else:
                noise = self.noise_const * self.noise_strength
            if noise_gain != 1:
                noise = noise * noise_gain
        if fast:
            return self._forward_fast(x, styles, noise, gain, circular)
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, resample_filter=self.resample_filter,
                             fused_modconv=fused_modconv, circular=circular)
        act_clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(x, self.bias.to(x.dtype), act="lrelu", gain=self.act_gain * gain, clamp=act_clamp)

    def _forward_fast(self, x: torch.Tensor, styles: torch.Tensor, noise: torch.Tensor | None, gain: float,
                      circular: bool) -> torch.Tensor:
        """Same maths as the NVlabs path, arranged for CPU speed.

        The activation gain is folded into the demodulation and bias (lrelu is positively
        homogeneous); batch 1 folds styles into the weight (one plain conv, bias fused into the
        conv or the FIR), larger batches scale the activations around one plain conv with the
        shared weight. Activations stay channels-last; the epilogue is in place when no
        gradient is being recorded.
        """
        n = x.shape[0]
        g = self.act_gain * gain
        dt = x.dtype
        if dt == torch.float16:  # keep x * s finite in half precision (cancels under demodulation)
            styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
        # Demodulation sum_{i,k} (W_oik s_i)^2 = s^2 @ sum_k W_oik^2, without the [N, O, I, k, k] tensor.
        wsq = self._cached("wsq", lambda t: t.square().sum(dim=[2, 3]))  # [O, I] float32
        d = (styles.square() @ wsq.t() + 1e-8).rsqrt() * g  # [N, O]
        b = (self.bias * g).to(dt)
        if x.shape[-1] >= CHANNELS_LAST_MIN:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.up == 1 and x.shape[1] >= _WINOGRAD_MIN_CHANNELS and not torch.is_grad_enabled():
            xs = (x.permute(0, 2, 3, 1) * styles.to(dt).reshape(n, 1, 1, -1)).contiguous()
            u = self._cached(f"wino_{dt}", lambda t: winograd_weight(t).to(dt))
            y = winograd_conv3x3(xs, u, None, circular)
            y = torch.addcmul(b.reshape(1, -1, 1, 1), y, d.to(dt).reshape(n, -1, 1, 1))
        elif n == 1:
            w1 = self.weight * (d.reshape(-1, 1) * styles.reshape(1, -1)).reshape(*self.weight.shape[:2], 1, 1)
            y = self._conv_fast(x, w1.to(dt), b, circular)
        else:
            weight = self._cached(f"w_{dt}", lambda t: t.to(dt))
            y = self._conv_fast(x * styles.to(dt).reshape(n, -1, 1, 1), weight, None, circular)
            y = torch.addcmul(b.reshape(1, -1, 1, 1), y, d.to(dt).reshape(n, -1, 1, 1))
        inplace = not torch.is_grad_enabled()
        if noise is not None:
            noise = (noise * g).to(x.dtype)
            y = y.add_(noise) if inplace else y + noise
        y = F.leaky_relu_(y, 0.2) if inplace else F.leaky_relu(y, 0.2)
        if self.conv_clamp is not None:
            c = self.conv_clamp * gain
            y = y.clamp_(-c, c) if inplace else y.clamp(-c, c)
        return y

    def _cached(self, name: str, fn) -> torch.Tensor:
        """``fn(self.weight)``, cached while no gradient is recorded and the weight is unchanged."""
        if torch.is_grad_enabled():
            return fn(self.weight)
        key = (self.weight._version, self.weight.data_ptr(), self.weight.dtype, self.weight.device)
        cache = self.__dict__.setdefault("_fast_cache", {})
        hit = cache.get(name)
        if hit is None or hit[0] != key:
            hit = (key, fn(self.weight))
            cache[name] = hit
        return hit[1]

    def _conv_fast(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, circular: bool) -> torch.Tensor:
        """3x3 conv (up=1) or stride-2 transposed conv + [4, 4] FIR (up=2), optional bias."""
        if self.up == 1:
            if circular:
                return F.conv2d(ops.pad_circular(x, 1), w, b)
            return F.conv2d(x, w, b, padding=1)
        if circular:
            y = ops.conv2d_resample(x, w, self.resample_filter, up=self.up, padding=1, circular=True)
            return y + b.reshape(1, -1, 1, 1) if b is not None else y
        f = self.resample_filter
        p0 = 1 + (f.shape[-1] + self.up - 1) // 2 - 2
        p1 = 1 + (f.shape[-1] - self.up) // 2 - (3 - self.up)
        if p0 != p1 or p0 < 0:  # unusual filter length: generic path
            y = ops.conv2d_resample(x, w, f, up=self.up, padding=1)
            return y + b.reshape(1, -1, 1, 1) if b is not None else y
        y = F.conv_transpose2d(x, w.transpose(0, 1), stride=self.up)
        cout = y.shape[1]
        fir = (f * self.up ** 2).to(y.dtype).flip([0, 1])[None, None].expand(cout, 1, -1, -1).contiguous()
        if b is None:
            return depthwise_fir(y, fir, p0)
        return F.conv2d(y, fir, b, padding=p0, groups=cout)


class ToRGBLayer(torch.nn.Module):
    """Modulated 1x1 conv to image channels, no demodulation, bias, optional clamp.

    Input ``[N, Cin, R, R]`` and ``w [N, w_dim]`` -> ``[N, img_channels, R, R]``.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, conv_clamp: float | None = None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool = True, fast: bool = False) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        if fast:
            # Output has only 1-4 channels: fold the styles into a per-sample weight and run
            # one small batched matmul instead of scaling the wide activation tensor.
            n, c, h, wd = x.shape
            wmod = self.weight[:, :, 0, 0].unsqueeze(0) * styles.unsqueeze(1)  # [N, O, I]
            xt = x.permute(0, 2, 3, 1).reshape(n, h * wd, c)  # a view when x is channels-last
            y = torch.bmm(xt, wmod.to(x.dtype).transpose(1, 2))  # [N, HW, O]
            x = y.reshape(n, h, wd, -1).permute(0, 3, 1, 2).contiguous()
        else:
            x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv)
        return ops.bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)
