"""Multi-process data-parallel training (``torchrun --nproc-per-node N -m batikstudio train``).

Like NVlabs' training loop, gradients are averaged across processes with ``all_reduce``
after each backward pass (one flat buffer per network), instead of wrapping the nets in
``DistributedDataParallel``: the R1 / path-length penalties need double backward, which DDP's
reducer does not support, and lazy regularisation steps touch only some phases. Each process
handles ``global batch / N`` images, and the mean of the per-process mean gradients equals
the single-process mean over the global batch, so results depend on the global batch only.
Backend: ``nccl`` on CUDA, ``gloo`` on CPU. Only rank 0 writes files.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
from dataclasses import dataclass
from typing import Iterable

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)

# set once this process has created a process group: see end_process
_joined_group = False


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run.

    Attributes:
        rank: process index (0 writes files).
        world_size: number of processes.
        local_rank: index on this machine (picks the CUDA device).
        initialised: True when this module created the process group (and must destroy it).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    initialised: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(rank: int | None, world_size: int | None, device: torch.device) -> DistInfo:
    """Join the process group when running under torchrun (or with explicit rank/size).

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` / ``MASTER_PORT`` from the
    environment when not given. Single-process runs return a disabled :class:`DistInfo`.
    """
    env = os.environ
    world = int(world_size if world_size is not None else env.get("WORLD_SIZE", 1))
    rank = int(rank if rank is not None else env.get("RANK", 0))
    local = int(env.get("LOCAL_RANK", rank))
    if world <= 1:
        return DistInfo()
    if dist.is_available() and dist.is_initialized():
        return DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local)
    if not faulthandler.is_enabled():
        # a process that dies of a signal (a C++ abort in a collective or in the teardown) prints
        # where its threads were: otherwise torchrun / mp.spawn report only "SIGABRT"
        faulthandler.enable()
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=rank, world_size=world)
    global _joined_group
    _joined_group = True
    log.info("process %d of %d joined (%s)", rank, world, backend)
    return DistInfo(rank=rank, world_size=world, local_rank=local, initialised=True)


def shutdown(info: DistInfo, finished: bool = False) -> None:
    """Leave the process group if :func:`init_distributed` created it.

    ``finished``: every process ended the run normally (they all leave the loop at the same
    iteration), so they wait for each other before tearing the group down: otherwise every
    rank but 0 tears down its gloo connections while rank 0 still writes the last snapshot.
    The abort after a correct run that CI saw at times ("terminate called without an active
    exception") happens later, when the interpreter finalises: :func:`end_process` explains
    it and avoids it. After an error nobody waits: a peer may be gone.
    """
    if not (info.initialised and dist.is_initialized()):
        return
    if finished:
        dist.barrier()
    dist.destroy_process_group()


def end_process(code: int) -> int:
    """End a process that joined a process group now, without the interpreter's finalisation.

    Returns ``code`` unchanged in a process that never joined a group (the app, one-process
    runs); entry points call it last, ``sys.exit(end_process(main()))``, and so does anything
    else that runs one rank (a test's spawned worker).

    Why: :func:`shutdown` does not end gloo's worker threads (torch keeps the group's C++
    object, so ``destroy_process_group`` leaves them running; pytorch/pytorch#190489). Just
    after the last collective a worker thread may still be dropping that collective's work
    object, whose tensors belong to Python objects; if the main thread has begun finalising
    the interpreter meanwhile, that thread's wait for the GIL ends it, and the forced unwind
    through a ``noexcept`` destructor calls ``std::terminate``: SIGABRT ("terminate called
    without an active exception") or SIGSEGV after a correct run. Measured here with the
    two-process test's workers: 2 aborts in 40 runs ending normally. Everything the run
    writes is written and closed by then (snapshots are atomic), so the process flushes its
    output and logs and leaves with ``os._exit``, which never finalises.
    """
    if not _joined_group:
        return code
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that went away
            pass
    os._exit(code)


def average_gradients(params: Iterable[torch.nn.Parameter], info: DistInfo) -> None:
    """Average ``.grad`` of ``params`` over all processes (missing grads count as zero).

    Non-finite values are replaced by zeros, like NVlabs, so one bad process cannot poison
    the others.
    """
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    if info.enabled:
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in params])
        dist.all_reduce(flat)
        flat /= info.world_size
        torch.nan_to_num(flat, nan=0.0, posinf=0.0, neginf=0.0, out=flat)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n
    else:
        for p in params:
            if p.grad is not None:
                torch.nan_to_num(p.grad, nan=0.0, posinf=0.0, neginf=0.0, out=p.grad)


def all_mean(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Element-wise mean of a small tensor over processes (e.g. sums and counts)."""
    if not info.enabled:
        return values
    out = values.clone()
    dist.all_reduce(out)
    return out / info.world_size


def broadcast_module(module: torch.nn.Module, info: DistInfo) -> None:
    """Copy rank 0's parameters and buffers to every process."""
    if not info.enabled:
        return
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def average_buffers(module: torch.nn.Module, info: DistInfo) -> None:
    """Average floating-point buffers (e.g. the generator's tracked ``w_avg``) over processes.

    Each process moves ``w_avg`` toward its own batch mean; the mean of the processes'
    updates equals the update with the global batch, so this keeps runs independent of N.
    """
    if not info.enabled:
        return
    for buf in module.buffers():
        if buf.is_floating_point():
            dist.all_reduce(buf.data)
            buf.data /= info.world_size
