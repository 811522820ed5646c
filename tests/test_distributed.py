"""torch.distributed on CPU (gloo, 2 processes), for the three games: DDP equals one process with
the whole batch, and a run resumes on another number of processes from the right step.

The identity network and FaceID-GAN's G have batch norm, which gloo cannot synchronise (on GPUs,
distributed.wrap makes it SyncBatchNorm): each rank normalises its own share. Their reference
runs therefore use `ghost_batch_norm`, the same arithmetic in one process.

Every game is compared under plain SGD instead of Adam (and the identity network's AdamW).
Batch norm cancels some of G's gradients exactly (a weight whose input is constant across a share of the batch gets
sum(dL/dh) = 0), so what is left is float rounding, which differs between one process and two;
Adam's first step divides by sqrt(v) + eps and turns that rounding into a step of up to +-lr
(measured: 1.6e-4 on G.fc.weight at lr 4e-4, every other weight within 3e-6). SGD shows the
gradients themselves agree, which is what DDP is responsible for."""

import copy
import shutil

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from conftest import ghost_batch_norm, make_tiny_gan_world
from faceid_lab.data import synthetic as S
from faceid_lab.models.gan import BeganDiscriminator, Generator
from faceid_lab.train import classifier as classifier_module
from faceid_lab.train import faceidgan as faceidgan_module
from faceid_lab.train.autoencoder import AutoencoderConfig, train_autoencoder
from faceid_lab.train.checkpoint import TrainCheckpoint, load_checkpoint
from faceid_lab.train.classifier import ClassifierConfig, Classify, train_classifier
from faceid_lab.train.distributed import SINGLE, Dist
from faceid_lab.train.faceidgan import FaceIdGanConfig, train_faceid_gan
from faceid_lab.train.loop import speed_up, to_memory_format, use_channels_last


def _faces():
    ra = S.render(S.sample_identities(0, [1] * 16), S.sample_nuisance(0, [1] * 16, range(16)), 32)
    rb = S.render(S.sample_identities(0, [2] * 16), S.sample_nuisance(0, [2] * 16, range(16)), 32)
    return ra.to_uint8(), rb.to_uint8(), ra.mask, rb.mask


CFG = AutoencoderConfig(width=0.0625, resolution=32, steps=1, batch=8)
ID_CFG = ClassifierConfig(num_classes=4, width=4, steps=2, batch=8, warmup=1)
GAN_CFG = FaceIdGanConfig(classifier="2n", width=4, resolution=32, z_dim=8, steps=2, batch=8)


def _identity_data():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (24, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(24) % 4


def _plain_sgd(params, lr=None, **_):
    """Stands in for torch.optim.Adam in the FaceID-GAN comparisons (see the module docstring)."""
    return torch.optim.SGD(params, lr=0.05)


def _train_game(game: str, cfg, checkpoint: str | None = None, dist_: Dist = SINGLE) -> tuple[dict, dict]:
    """(state of every trained module, history) after training `game` in this process."""
    kw = dict(checkpoint=checkpoint, save_every_steps=2 if checkpoint else None, dist=dist_, log_every=1)
    if game == "autoencoder":
        fa, fb, ma, mb = _faces()
        model, history = train_autoencoder(fa, fb, cfg, ma, mb, **kw)
        return {"model": model.state_dict()}, history
    if game == "identity":
        images, labels = _identity_data()
        net, history = train_classifier(images, labels, cfg, **kw)
        return {"net": net.state_dict()}, history
    identity_net, pose_net, data = make_tiny_gan_world()
    p, history = train_faceid_gan(data, identity_net, pose_net, cfg, **kw)
    return {"G": p.G.state_dict(), "D": p.D.state_dict(), **({"C": p.C.state_dict()} if p.C is not None else {}),
            "balance": p.balance.state_dict()}, history


def _game_worker(rank: int, world: int, init_file: str, out: str, game: str, cfg, checkpoint: str | None,
                 snapshot_at: int | None):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        torch.optim.Adam = torch.optim.AdamW = _plain_sgd  # this spawned process only (the module docstring)
        if snapshot_at:  # keep what a crash right after step `snapshot_at` would leave on disk
            step_done = TrainCheckpoint.step_done

            def step_done_then_copy(self, step, extra=None):
                saved = step_done(self, step, extra)
                if step == snapshot_at:
                    shutil.copy(checkpoint, checkpoint + ".crashed")
                return saved

            TrainCheckpoint.step_done = step_done_then_copy  # this spawned process only
        state, _ = _train_game(game, cfg, checkpoint, Dist(rank, world))
        torch.save(state, f"{out}.rank{rank}")
    finally:
        dist.destroy_process_group()


def _run_game_on_two(tmp_path, game, cfg, checkpoint=None, snapshot_at=None):
    out = str(tmp_path / game)
    mp.spawn(_game_worker, args=(2, str(tmp_path / "init"), out, game, cfg, checkpoint, snapshot_at), nprocs=2,
             join=True)
    return [torch.load(f"{out}.rank{r}", weights_only=True) for r in (0, 1)]


def test_two_processes_with_half_batches_equal_one_process_with_the_whole_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.optim, "Adam", _plain_sgd)
    ddp = _run_game_on_two(tmp_path, "autoencoder", CFG)[0]["model"]
    fa, fb, ma, mb = _faces()
    single, _ = train_autoencoder(fa, fb, CFG, ma, mb)
    before, _ = train_autoencoder(fa, fb, AutoencoderConfig(**{**CFG.__dict__, "steps": 0}), ma, mb)
    moved = 0.0
    for (name, want), got, start in zip(single.state_dict().items(), ddp.values(), before.state_dict().values(),
                                        strict=True):
        assert torch.allclose(got, want, atol=1e-5), name
        moved = max(moved, (want - start).abs().max().item())
    assert moved > 1e-4  # the step really changed the weights


def test_a_two_process_run_resumes_on_one_process_from_the_right_step(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.optim, "Adam", _plain_sgd)
    cfg = AutoencoderConfig(**{**CFG.__dict__, "steps": 6})
    ckpt = str(tmp_path / "ae.pt")
    ddp = _run_game_on_two(tmp_path, "autoencoder", cfg, checkpoint=ckpt, snapshot_at=3)[0]["model"]
    crashed = load_checkpoint(ckpt + ".crashed")
    assert crashed["step"] == 2 and not crashed["finished"]  # saved every 2 steps by rank 0 only
    fa, fb, ma, mb = _faces()
    resumed, history = train_autoencoder(fa, fb, cfg, ma, mb, checkpoint=ckpt + ".crashed", log_every=1)
    assert history["step"] == [1, 2, 3, 4, 5, 6]  # steps 3..6 ran here, after 1..2 from the two processes
    for (name, want), got in zip(resumed.state_dict().items(), ddp.values(), strict=True):
        assert torch.allclose(got, want, atol=1e-5), name


def test_the_batch_must_divide_among_the_processes():
    with pytest.raises(ValueError, match="divisible by the number of processes"):
        Dist(0, 3).share(8)


def test_torchrun_launches_the_cli_and_rank_0_alone_reports(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ["--profile", "ci", "--steps", "4", "--batch", "8", "--frames", "16", "--test-frames", "4"]
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "faceid_lab", "train",
                           "autoencoder", *args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)  # one JSON document: rank 1 prints nothing
    assert report["processes"] == 2 and report["steps"] == 4 and Path(report["checkpoint"]).exists()
    again = subprocess.run([sys.executable, "-m", "faceid_lab", "train", "autoencoder", *args], capture_output=True,
                           text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    loaded = json.loads(again.stdout)  # one process now: the finished two-process run is loaded, not retrained
    assert loaded["processes"] == 1 and loaded["checkpoint"] == report["checkpoint"]
    assert loaded["train_seconds"] == report["train_seconds"]



def test_torchrun_trains_faceidgan_and_the_identity_network_with_rank_0_alone_reporting(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    torchrun = [str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node", "2", "-m",
                "faceid_lab", "train"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # FaceID-GAN: rank 0 trains the ci identity network and P while rank 1 waits, then both train the game
    proc = subprocess.run([*torchrun, "faceidgan", "--profile", "ci", "--classifier", "2n", "--steps", "4"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)  # one JSON document: rank 1 prints nothing
    assert report["processes"] == 2 and report["steps"] == 4 and Path(report["checkpoint"]).exists()
    proc = subprocess.run([*torchrun, "classifier", "--out", str(tmp_path / "id.pt"), "--identities", "4",
                           "--images-per-identity", "6", "--width", "4", "--steps", "3", "--batch", "8"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["processes"] == 2 and report["steps"] == 3 and (tmp_path / "id.pt").exists()


# --- the BN games: the identity network and FaceID-GAN ---------------------------------------

@pytest.fixture
def ghost_bn(monkeypatch):
    """The single-process reference normalises like two CPU ranks, and every player takes plain
    SGD steps (see the module docstring)."""
    monkeypatch.setattr(torch.optim, "Adam", _plain_sgd)
    monkeypatch.setattr(torch.optim, "AdamW", _plain_sgd)
    build, generator = classifier_module.build_classifier, faceidgan_module.Generator
    monkeypatch.setattr(classifier_module, "build_classifier", lambda cfg: ghost_batch_norm(build(cfg), 2))
    monkeypatch.setattr(faceidgan_module, "Generator", lambda *a, **k: ghost_batch_norm(generator(*a, **k), 2))


def _assert_same(got: dict, want: dict, start: dict | None = None, buffers: bool = True) -> None:
    moved = 0.0
    for module in want:
        for name, w in want[module].items():
            if not buffers and ("running_" in name or "num_batches" in name):
                continue
            diff = (got[module][name].float() - w.float()).abs().max().item()
            assert diff <= 1e-5, f"{module}.{name}: differs by {diff:.2e}"
            if start is not None and w.is_floating_point():
                moved = max(moved, (w - start[module][name]).abs().max().item())
    if start is not None:
        assert moved > 1e-4  # the steps really changed the weights


@pytest.mark.parametrize("game, cfg", [("identity", ID_CFG), ("faceidgan", GAN_CFG)])
def test_bn_games_on_two_processes_equal_one_process_with_the_whole_batch(tmp_path, ghost_bn, game, cfg):
    rank0, rank1 = _run_game_on_two(tmp_path, game, cfg)
    _assert_same(rank1, rank0, buffers=False)  # DDP keeps the weights identical (BN statistics are per rank)
    single, _ = _train_game(game, cfg)
    start, _ = _train_game(game, type(cfg)(**{**cfg.__dict__, "steps": 0}))
    _assert_same(rank0, single, start)


@pytest.mark.parametrize("game, cfg", [("identity", ID_CFG), ("faceidgan", GAN_CFG)])
def test_bn_games_resume_on_one_process_from_the_right_step(tmp_path, ghost_bn, game, cfg):
    cfg = type(cfg)(**{**cfg.__dict__, "steps": 5})
    ckpt = str(tmp_path / f"{game}.pt")
    rank0, _ = _run_game_on_two(tmp_path, game, cfg, checkpoint=ckpt, snapshot_at=3)
    crashed = load_checkpoint(ckpt + ".crashed")
    assert crashed["step"] == 2 and not crashed["finished"]  # saved every 2 steps, by rank 0 only
    resumed, history = _train_game(game, cfg, ckpt + ".crashed")
    assert history["step"] == [1, 2, 3, 4, 5]  # steps 3..5 ran here, after 1..2 on two processes
    _assert_same(resumed, rank0)


# --- speed switches: they change how a step runs, not what it computes --------------------
#
# channels_last and torch.compile run other kernels, and oneDNN picks its kernels per CPU, so
# the float32 numbers of one step differ between machines (and oneDNN's AVX2 NHWC kernel for a
# 1x1 stride-2 convolution with fewer than 8 input channels is simply wrong: loop.ONEDNN_NHWC_BUG).
# So the equivalence is checked in float64, where no CPU-specific oneDNN kernel runs and the
# rounding is ~1e-16: one forward and backward of each network, contiguous vs channels_last vs
# compiled, must give the same gradients to 1e-9 of their size. Separately, float32 gradients of
# the default path are checked against float64 (measured on an AVX-512 EPYC, and the same machine
# under ONEDNN_MAX_CPU_ISA=AVX2: at most 7e-6 of the gradient's norm; the bound is 1e-4).

def _gradients(module: torch.nn.Module, loss_of, channels_last: bool = False, compile: bool = False) -> dict:
    module = speed_up(module, channels_last, compile)
    module.zero_grad(set_to_none=True)
    loss_of(module, lambda x: to_memory_format(x, channels_last)).backward()
    return {n: p.grad.detach().double().clone() for n, p in module.named_parameters() if p.grad is not None}


def _worst_relative(got: dict, want: dict) -> tuple[str, float]:
    assert got.keys() == want.keys()
    ratios = {n: ((got[n] - want[n]).norm() / want[n].norm().clamp_min(1e-300)).item() for n in want}
    worst = max(ratios, key=ratios.get)
    return worst, ratios[worst]


def _identity_loss(module, layout):
    images, labels = _identity_data()
    x = images[:8].to(next(module.parameters()).dtype) / 255
    return F.cross_entropy(module(layout(x), labels[:8]).float(), labels[:8])


def _gan_losses():
    g = torch.Generator().manual_seed(0)
    f_id, f_pose, z = torch.randn(4, 256, generator=g), torch.randn(4, 7, generator=g), torch.randn(4, 8, generator=g)
    faces, probe = torch.rand(4, 3, 32, 32, generator=g), torch.randn(4, 3, 32, 32, generator=g)

    def of_g(G, layout):
        dt = next(G.parameters()).dtype
        return (G(f_id.to(dt), f_pose.to(dt), z.to(dt)) * probe.to(dt)).sum()   # a fixed projection of the faces

    def of_d(D, layout):
        x = layout(faces.to(next(D.parameters()).dtype))
        return (x - D(x)).abs().mean()                                           # BEGAN's R(x)
    return of_g, of_d


def _networks():
    torch.manual_seed(0)
    return {"identity": (Classify(classifier_module.build_classifier(ID_CFG)), _identity_loss),
            "G": (Generator(4, 32, 8), _gan_losses()[0]), "D": (BeganDiscriminator(4, 32), _gan_losses()[1])}


@pytest.mark.parametrize("name", ["identity", "G", "D"])
def test_channels_last_and_compile_compute_the_same_gradients(name):
    module, loss_of = _networks()[name]
    module = module.double().train()
    want = _gradients(copy.deepcopy(module), loss_of)
    for switches in ({"channels_last": True}, {"compile": True}):
        where, ratio = _worst_relative(_gradients(copy.deepcopy(module), loss_of, **switches), want)
        assert ratio <= 1e-9, f"{name} with {switches}: {where}'s gradient differs by {ratio:.1e} of its norm"


@pytest.mark.parametrize("name", ["identity", "G", "D"])
def test_float32_gradients_match_float64_on_this_cpu(name):
    module, loss_of = _networks()[name]
    want = _gradients(copy.deepcopy(module).double().train(), loss_of)
    where, ratio = _worst_relative(_gradients(copy.deepcopy(module).float().train(), loss_of), want)
    assert ratio <= 1e-4, f"{name}: {where}'s float32 gradient is {ratio:.1e} of its norm away from float64"


def test_the_gradient_comparison_sees_a_wrong_step():
    """The bound is not so loose that another computation passes: a 1% larger loss is caught."""
    module, loss_of = _networks()["identity"]
    module = module.double().train()
    want = _gradients(copy.deepcopy(module), loss_of)
    _, ratio = _worst_relative(_gradients(copy.deepcopy(module), lambda m, lay: 1.01 * loss_of(m, lay)), want)
    assert ratio > 1e-3


def test_the_loops_never_run_channels_last_on_the_cpu():
    cpu = torch.device("cpu")
    assert not use_channels_last(cpu, None)
    with pytest.warns(UserWarning, match="oneDNN issue #6035"):
        assert not use_channels_last(cpu, True)
    assert use_channels_last(torch.device("cuda"), None) and not use_channels_last(torch.device("cuda"), False)
