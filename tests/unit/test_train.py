"""Tests of the training engine (skelutils.train) on a tiny model and tiny data."""
from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest
import torch
from torch import nn

from skelutils import train as tr

torch.set_num_threads(1)

T = 8
NAMES = ("a", "b", "c", "d", "e", "f", "g")


class TinyNoL2(nn.Module):
    """Flatten (N, 2, T, 25, 3) -> FC -> ReLU -> dropout -> FC, without ``l2_params``."""

    def __init__(self, t: int = T, num_classes: int = 7, hidden: int = 16, dropout: float = 0.0):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3))
        self.fc1 = nn.Linear(2 * t * 25 * 3, hidden)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.config = {"t": t, "num_classes": num_classes, "hidden": hidden, "dropout": dropout}

    def forward(self, x):
        h = (x * self.scale).flatten(1)
        return self.fc2(self.drop(torch.relu(self.fc1(h))))


class TinyNet(TinyNoL2):
    """The same with ``l2_params``: only the last FC layer gets L2."""

    def l2_params(self):
        return [self.fc2.weight, self.fc2.bias]


def make_data(n_train=48, n_val=16, n_test=21, num_classes=7, seed=0, random_val=False):
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 1, (num_classes, 2, T, 25, 3)).astype(np.float32)

    def draw(n):
        y = np.arange(n) % num_classes
        rng.shuffle(y)
        x = means[y] + rng.normal(0, 2.0, (n, 2, T, 25, 3)).astype(np.float32)
        return x.astype(np.float32), y.astype(np.int64)

    xtr, ytr = draw(n_train)
    xva, yva = draw(n_val)
    xte, yte = draw(n_test)
    if random_val:
        yva = rng.integers(0, num_classes, n_val).astype(np.int64)
    return tr.TrainData(xtr, ytr, xva, yva, xte, yte, class_names=NAMES[:num_classes])


def run(tmp_path, name="run", model=None, data=None, **kw):
    kw.setdefault("epochs", 3)
    kw.setdefault("batch_size", 8)
    kw.setdefault("lr", 1e-2)
    kw.setdefault("progress", False)
    kw.setdefault("device", "cpu")
    kw.setdefault("model_name", "tiny")
    if model is None:
        torch.manual_seed(123)
        model = TinyNet(dropout=kw.pop("dropout", 0.0))
    return tr.fit(model, data if data is not None else make_data(), run_dir=tmp_path / name,
                  results_path=tmp_path / f"{name}.json", **kw)


def strip(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def weights(path):
    return tr.load_checkpoint(path)["model"]


def assert_same_weights(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for k in a:
        if atol == 0.0:
            assert torch.equal(a[k], b[k]), k
        else:
            diff = (a[k] - b[k]).abs().max().item()
            assert torch.allclose(a[k], b[k], atol=atol, rtol=1e-4), f"{k}: largest difference {diff:.3g}"


def test_deterministic_for_a_seed(tmp_path):
    r1 = run(tmp_path, "a", dropout=0.3, seed=5)
    r2 = run(tmp_path, "b", dropout=0.3, seed=5)
    assert strip(r1["history"]) == strip(r2["history"])
    assert r1["test_predictions"] == r2["test_predictions"]
    assert_same_weights(weights(tmp_path / "a" / "last.pt"), weights(tmp_path / "b" / "last.pt"))
    r3 = run(tmp_path, "c", dropout=0.3, seed=6)
    assert strip(r3["history"]) != strip(r1["history"])


@pytest.mark.parametrize("opt_kw", [dict(optimizer="adam"),
                                    dict(optimizer="sgd", lr=0.05, plateau_patience=0)])
def test_resume_gives_the_uninterrupted_result(tmp_path, opt_kw):
    data = make_data()
    full = run(tmp_path, "full", data=data, dropout=0.3, epochs=4, **opt_kw)
    part = run(tmp_path, "part", data=data, dropout=0.3, epochs=2, **opt_kw)
    assert len(part["history"]) == 2
    # a new process would build a new model; its initial weights are replaced by the checkpoint's
    torch.manual_seed(999)
    cont = run(tmp_path, "part", data=data, model=TinyNet(dropout=0.3), epochs=4, resume=True, **opt_kw)
    assert strip(cont["history"]) == strip(full["history"])
    assert cont["test_predictions"] == full["test_predictions"]
    assert cont["test_accuracy"] == full["test_accuracy"]
    assert cont["best_epoch"] == full["best_epoch"]
    # the training time counts the epochs of both calls, not only the resumed one's
    assert cont["train_seconds"] == pytest.approx(sum(h["seconds"] for h in cont["history"]))
    assert cont["train_seconds"] > sum(h["seconds"] for h in cont["history"][2:])
    assert_same_weights(weights(tmp_path / "part" / "last.pt"), weights(tmp_path / "full" / "last.pt"))
    ck = tr.load_checkpoint(tmp_path / "part" / "last.pt")
    assert ck["epoch"] == 4
    if opt_kw["optimizer"] == "sgd":
        assert ck["scheduler"] is not None


def test_a_run_is_extended_but_never_shortened(tmp_path):
    data = make_data()
    five = run(tmp_path, "r", data=data, epochs=5)
    with pytest.raises(ValueError) as e:
        run(tmp_path, "r", data=data, epochs=2)
    msg = str(e.value)
    assert str(tmp_path / "r" / "last.pt") in msg and "run of 5 epochs" in msg and "epochs=2" in msg
    assert "resume=False" in msg and str(tmp_path / "r") in msg
    assert json.loads((tmp_path / "r.json").read_text())["epochs"] == 5  # the results file is untouched
    again = run(tmp_path, "r", data=data, epochs=5)  # the same length: re-tested, not retrained
    assert again["history"] == five["history"] and again["epochs"] == 5
    longer = run(tmp_path, "r", data=data, epochs=7)
    assert longer["epochs"] == 7 and [h["epoch"] for h in longer["history"]] == list(range(1, 8))
    assert longer["history"][:5] == five["history"]
    assert tr.load_checkpoint(tmp_path / "r" / "last.pt")["epochs"] == 7
    with pytest.raises(ValueError, match="run of 7 epochs"):
        run(tmp_path, "r", data=data, epochs=5)


def test_retest_reports_where_the_epochs_were_trained(tmp_path):
    data = make_data()
    run(tmp_path, "r", data=data, epochs=2)
    # as if the two epochs had been trained on a GPU box by four processes
    gpu = {"device": "cuda:0 (Some GPU)", "world_size": 4}
    ck = tr.load_checkpoint(tmp_path / "r" / "last.pt")  # best.pt holds weights only, no segments
    for seg in ck["segments"]:
        seg.update(gpu)
        seg["train_params"] = {**seg["train_params"], "world_size": 4, "per_rank_batch_size": 2}
    tr.save_checkpoint(tmp_path / "r" / "last.pt", ck)
    res = run(tmp_path, "r", data=data, epochs=2)
    assert (res["device"], res["world_size"]) == ("cuda:0 (Some GPU)", 4) and res["test_device"] == "cpu"
    assert res["train_params"]["per_rank_batch_size"] == 2
    # two more epochs here: the results say which epochs ran where
    res = run(tmp_path, "r", data=data, epochs=4)
    assert [(s["first_epoch"], s["last_epoch"], s["device"]) for s in res["training_segments"]] == [
        (1, 2, "cuda:0 (Some GPU)"), (3, 4, "cpu")]
    assert (res["device"], res["world_size"]) == ("cpu", 1)


def test_kill_between_last_and_best_is_repaired_on_resume(tmp_path, monkeypatch):
    data = make_data()
    full = run(tmp_path, "full", data=data, epochs=3)
    assert full["best_epoch"] >= 2, "the data should make a later epoch the best"
    real_save = tr.save_checkpoint

    def killed_before_best(path, state):
        if os.path.basename(path) == "best.pt" and state["epoch"] == full["best_epoch"]:
            raise KeyboardInterrupt
        return real_save(path, state)

    monkeypatch.setattr(tr, "save_checkpoint", killed_before_best)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "part", data=data, epochs=3)
    monkeypatch.setattr(tr, "save_checkpoint", real_save)
    assert tr.load_checkpoint(tmp_path / "part" / "best.pt")["epoch"] < full["best_epoch"]
    cont = run(tmp_path, "part", data=data, epochs=3)
    assert cont["best_epoch"] == full["best_epoch"] and cont["test_predictions"] == full["test_predictions"]
    assert tr.load_checkpoint(tmp_path / "part" / "best.pt")["epoch"] == full["best_epoch"]


def test_best_from_another_run_is_refused(tmp_path):
    data = make_data(random_val=True, seed=3)
    res = run(tmp_path, "r", data=data, epochs=6, lr=0.05, dropout=0.3)
    assert res["best_epoch"] < 6
    ck = tr.load_checkpoint(tmp_path / "r" / "last.pt")
    tr.save_checkpoint(tmp_path / "r" / "best.pt", ck)  # a best.pt that is not the recorded best epoch
    with pytest.raises(ValueError) as e:
        run(tmp_path, "r", data=data, epochs=6, lr=0.05, dropout=0.3)
    msg = str(e.value)
    assert f"holds epoch 6 but {tmp_path / 'r' / 'last.pt'} records epoch {res['best_epoch']} as the best" in msg
    assert "resume=False" in msg


def test_a_failed_checkpoint_write_leaves_the_old_one(tmp_path, monkeypatch):
    data = make_data()
    run(tmp_path, "r", data=data, epochs=1)
    before = (tmp_path / "r" / "last.pt").read_bytes()

    def half_written(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(tr.torch, "save", half_written)
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path, "r", data=data, epochs=2)
    assert (tmp_path / "r" / "last.pt").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["best.pt", "last.pt"]


def test_resume_false_starts_over(tmp_path):
    data = make_data()
    run(tmp_path, "r", data=data, epochs=2)
    again = run(tmp_path, "r", data=data, epochs=3, resume=False)
    fresh = run(tmp_path, "s", data=data, epochs=3)
    assert strip(again["history"]) == strip(fresh["history"])


def test_wrong_checkpoint_gives_a_clear_message(tmp_path):
    data = make_data()
    run(tmp_path, "r", data=data, epochs=1)
    with pytest.raises(ValueError) as e:
        run(tmp_path, "r", data=data, epochs=2, model_name="other")
    msg = str(e.value)
    assert str(tmp_path / "r" / "last.pt") in msg and "'tiny'" in msg and "'other'" in msg
    assert "resume=False" in msg and "Delete the run folder" in msg

    data5 = make_data(num_classes=5)
    with pytest.raises(ValueError, match=r"num_classes: checkpoint has 7, this run asks for 5"):
        run(tmp_path, "r", data=data5, model=TinyNet(num_classes=5), epochs=2)
    # with resume=False the same call trains
    res = run(tmp_path, "r", data=data5, model=TinyNet(num_classes=5), epochs=1, resume=False)
    assert len(res["confusion_matrix"]) == 5


def test_model_with_wrong_class_count_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"logits of shape \(8, 5\).*num_classes=7"):
        run(tmp_path, "r", model=TinyNet(num_classes=5), epochs=1)


def test_bad_data_is_reported(tmp_path):
    d = make_data()
    with pytest.raises(KeyError, match="x_test"):
        tr.fit(TinyNet(), {"x_train": d.x_train, "y_train": d.y_train, "x_val": d.x_val, "y_val": d.y_val,
                           "y_test": d.y_test}, epochs=1, run_dir=tmp_path / "r", results_path=None)
    with pytest.raises(ValueError, match=r"y_val holds labels .*expected 0..6"):
        bad = make_data()
        bad.y_val[0] = 9
        run(tmp_path, "r", data=bad, epochs=1)


def test_results_json_is_complete_and_consistent(tmp_path):
    res = run(tmp_path, "r", epochs=3, meta={"split": "xsub", "profile": "smoke", "data_source": "simulated",
                                             "protocol": "xsub", "gan_fraction": 0.0})
    on_disk = json.loads((tmp_path / "r.json").read_text())
    assert on_disk["test_predictions"] == res["test_predictions"]
    need = {"model", "split", "profile", "data_source", "seed", "test_accuracy", "per_class_accuracy",
            "confusion_matrix", "history", "best_epoch", "n_train", "n_val", "n_test", "epochs", "params",
            "train_params", "device", "wall_seconds", "git_commit", "dataset_fingerprint", "test_predictions",
            "protocol", "gan_fraction"}
    assert need <= on_disk.keys()
    assert (on_disk["model"], on_disk["split"], on_disk["data_source"]) == ("tiny", "xsub", "simulated")
    assert on_disk["params"] == {"t": T, "num_classes": 7, "hidden": 16, "dropout": 0.0}
    cm = np.array(on_disk["confusion_matrix"])
    assert cm.shape == (7, 7) and cm.sum() == on_disk["n_test"] == 21
    assert on_disk["test_accuracy"] == pytest.approx(np.trace(cm) / on_disk["n_test"])
    data = make_data()
    assert (cm.sum(1) == np.bincount(data.y_test, minlength=7)).all()
    pred = np.array(on_disk["test_predictions"])
    assert len(pred) == 21
    assert (np.bincount(data.y_test * 7 + pred, minlength=49).reshape(7, 7) == cm).all()
    for i, name in enumerate(NAMES):
        assert on_disk["per_class_accuracy"][name] == pytest.approx(cm[i, i] / cm[i].sum())
    assert [h["epoch"] for h in on_disk["history"]] == [1, 2, 3]
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"} <= on_disk["history"][0].keys()
    assert on_disk["train_params"]["optimizer"] == "adam" and on_disk["train_params"]["batch_size"] == 8
    assert on_disk["dataset_fingerprint"] == tr.dataset_fingerprint(data)
    with pytest.raises(ValueError, match="clash"):
        run(tmp_path, "q", epochs=1, meta={"test_accuracy": 1.0})


def test_best_on_validation_is_the_checkpoint_tested(tmp_path):
    data = make_data(random_val=True, seed=3)
    res = run(tmp_path, "r", data=data, epochs=6, lr=0.05, dropout=0.3)
    hist = res["history"]
    accs = [h["val_acc"] for h in hist]
    top = max(accs)
    cands = [h for h in hist if h["val_acc"] == top]
    expect = min(cands, key=lambda h: (h["val_loss"], h["epoch"]))["epoch"]
    assert res["best_epoch"] == expect
    assert res["best_epoch"] < 6, "the data should make the last epoch not the best one"
    best = tr.load_checkpoint(tmp_path / "r" / "best.pt")
    assert best["epoch"] == res["best_epoch"]
    last_w = weights(tmp_path / "r" / "last.pt")
    assert any(not torch.equal(best["model"][k], last_w[k]) for k in last_w)
    model = tr.load_checkpoint_model(tmp_path / "r" / "best.pt", model=TinyNet(dropout=0.3))
    ev = tr.evaluate(model, data.x_test, data.y_test, device="cpu", class_names=NAMES)
    assert ev["predictions"] == res["test_predictions"]
    assert ev["accuracy"] == res["test_accuracy"]
    with pytest.raises(ValueError, match="do not fit"):
        tr.load_checkpoint_model(tmp_path / "r" / "best.pt", model=TinyNet(hidden=4))


def test_l2_only_on_fc_parameters():
    m = TinyNet()
    opt = tr.make_optimizer(m, "adam", 1e-3, weight_decay_fc=1e-3)
    g_decay, g_rest = opt.param_groups
    assert g_decay["weight_decay"] == 1e-3 and g_rest["weight_decay"] == 0.0
    assert {id(p) for p in g_decay["params"]} == {id(m.fc2.weight), id(m.fc2.bias)}
    assert {id(p) for p in g_rest["params"]} == {id(m.scale), id(m.fc1.weight), id(m.fc1.bias)}
    m2 = TinyNoL2()
    assert not hasattr(m2, "l2_params")
    g_decay, g_rest = tr.make_optimizer(m2, "sgd", 1e-3, weight_decay_fc=1e-4).param_groups
    assert {id(p) for p in g_decay["params"]} == {id(m2.fc1.weight), id(m2.fc2.weight)}
    assert {id(p) for p in g_rest["params"]} == {id(m2.scale), id(m2.fc1.bias), id(m2.fc2.bias)}


def test_l2_reaches_the_fc_weights_in_training(tmp_path):
    # with a huge decay and a zero-gradient-free setup the decayed weights shrink, the others do not
    data = make_data()
    torch.manual_seed(1)
    m = TinyNet()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    tr.fit(m, data, epochs=1, batch_size=8, optimizer="sgd", lr=1e-3, momentum=0.0, weight_decay_fc=100.0,
           lr_plateau=False, device="cpu", progress=False, run_dir=tmp_path / "r", results_path=None)
    after = weights(tmp_path / "r" / "last.pt")
    assert after["fc2.weight"].norm() < 0.7 * before["fc2.weight"].norm()
    assert after["fc1.weight"].norm() > 0.95 * before["fc1.weight"].norm()


def test_plateau_decay_for_sgd_and_none_for_adam(tmp_path):
    sgd = run(tmp_path, "s", optimizer="sgd", lr=1e-6, plateau_patience=0, epochs=3)
    lrs = [h["lr"] for h in sgd["history"]]
    assert lrs[0] == lrs[1] == 1e-6 and lrs[2] == pytest.approx(1e-7)
    assert sgd["train_params"]["lr_plateau"] is True
    adam = run(tmp_path, "a", optimizer="adam", lr=1e-9, plateau_patience=0, epochs=3)
    assert [h["lr"] for h in adam["history"]] == [1e-9] * 3


# ----------------------------------------------------------------------------- DDP

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, tmp, kw):
    torch.set_num_threads(1)
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank)})
    torch.manual_seed(123)
    model = TinyNet()
    res = tr.fit(model, make_data(n_train=45), model_name="tiny", device="cpu", progress=False,
                 run_dir=os.path.join(tmp, "ddp"), results_path=os.path.join(tmp, f"ddp{rank}.json"), **kw)
    assert res["world_size"] == world


def test_ddp_two_processes_agree_with_one(tmp_path):
    import torch.multiprocessing as mp

    kw = dict(epochs=2, batch_size=8, lr=1e-2)
    single = run(tmp_path, "single", data=make_data(n_train=45), **kw)
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path), kw), nprocs=2, join=True)
    assert not (tmp_path / "ddp1.json").exists(), "only rank 0 writes results"
    ddp = json.loads((tmp_path / "ddp0.json").read_text())
    assert ddp["world_size"] == 2 and ddp["train_params"]["per_rank_batch_size"] == 4
    for a, b in zip(single["history"], ddp["history"]):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["train_acc"] == b["train_acc"] and a["val_acc"] == b["val_acc"]
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
    assert ddp["test_predictions"] == single["test_predictions"]
    assert ddp["confusion_matrix"] == single["confusion_matrix"]
    # The all-reduce sums gradients in another order than one process does: after the run the
    # weights differ by about 1e-5 on some kernels (ATEN_CPU_CAPABILITY=default), never by 1e-4.
    assert_same_weights(weights(tmp_path / "ddp" / "last.pt"), weights(tmp_path / "single" / "last.pt"), atol=1e-4)
    # the weights moved: agreement is not the trivial one of untrained models
    torch.manual_seed(123)
    init = TinyNet().state_dict()
    assert not torch.allclose(init["fc1.weight"], weights(tmp_path / "single" / "last.pt")["fc1.weight"], atol=1e-3)
    # re-tested in one process (as the notebooks do after a torchrun), the results still say
    # where the epochs were trained
    retest = run(tmp_path, "ddp", data=make_data(n_train=45), **kw)
    assert retest["world_size"] == 2 and retest["train_params"]["per_rank_batch_size"] == 4
    assert retest["training_segments"] == ddp["training_segments"]
    assert retest["test_predictions"] == ddp["test_predictions"]


def test_model_by_name_and_rebuild_from_checkpoint(tmp_path):
    pytest.importorskip("skelutils.models")
    data = make_data(n_train=14, n_val=7, n_test=7)
    params = {"channels": [4, 4, 4], "fc": [8, 8], "clip_len": 8, "joints_out": 22}
    res = tr.fit("li2017_cnn", data, model_params=params, epochs=1, batch_size=7, device="cpu", progress=False,
                 run_dir=tmp_path / "r", results_path=tmp_path / "r.json")
    assert res["model"] == "li2017_cnn" and res["params"]["channels"] == [4, 4, 4]
    assert res["train_params"]["l2_on"] == "model.l2_params()"
    model = tr.load_checkpoint_model(tmp_path / "r" / "best.pt")  # rebuilt from the stored name and params
    ev = tr.evaluate(model, data.x_test, data.y_test, device="cpu", class_names=NAMES)
    assert ev["predictions"] == res["test_predictions"]


def test_checkpoint_every_resumes_from_the_last_write(tmp_path, monkeypatch):
    data = make_data(random_val=True, seed=3)
    kw = dict(data=data, dropout=0.3, lr=0.05, epochs=5)
    full = run(tmp_path, "full", **kw)
    epochs_saved = []
    real_save = tr.save_checkpoint

    def killed_in_epoch_5(path, state):
        if os.path.basename(path) == "last.pt":
            epochs_saved.append(state["epoch"])
        if state["epoch"] == 5:
            raise KeyboardInterrupt
        return real_save(path, state)

    monkeypatch.setattr(tr, "save_checkpoint", killed_in_epoch_5)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "part", checkpoint_every=2, **kw)
    monkeypatch.setattr(tr, "save_checkpoint", real_save)
    assert epochs_saved == [2, 4, 5]  # every second epoch, and the last one
    last = tr.load_checkpoint(tmp_path / "part" / "last.pt")
    assert last["epoch"] == 4 and "optimizer" in last and "best_model" in last
    best = tr.load_checkpoint(tmp_path / "part" / "best.pt")
    assert "optimizer" not in best and "history" not in best  # weights only
    cont = run(tmp_path, "part", checkpoint_every=2, **kw)
    assert strip(cont["history"]) == strip(full["history"])
    assert cont["best_epoch"] == full["best_epoch"] and cont["test_predictions"] == full["test_predictions"]


def test_a_best_written_after_the_last_checkpoint_is_restored_from_it(tmp_path):
    data = make_data(random_val=True, seed=3)
    kw = dict(data=data, dropout=0.3, lr=0.05, epochs=4)
    full = run(tmp_path, "full", **kw)
    run(tmp_path, "part", **{**kw, "epochs": 2})
    last = tr.load_checkpoint(tmp_path / "part" / "last.pt")
    # as if a later epoch had improved and written best.pt before a kill
    ahead = {**tr.load_checkpoint(tmp_path / "part" / "best.pt"), "epoch": 3,
             "best": {"epoch": 3, "val_acc": 1.0, "val_loss": 0.0}}
    ahead["model"] = {k: v + 1 for k, v in ahead["model"].items()}
    tr.save_checkpoint(tmp_path / "part" / "best.pt", ahead)
    cont = run(tmp_path, "part", **kw)
    assert cont["best_epoch"] == full["best_epoch"] and cont["test_predictions"] == full["test_predictions"]
    if full["best_epoch"] <= 2:  # the best weights came back from last.pt, not from the stray best.pt
        assert_same_weights(weights(tmp_path / "part" / "best.pt"), last["best_model"])


def test_max_steps_per_epoch_caps_the_steps(tmp_path):
    data = make_data(n_train=48)
    res = run(tmp_path, "r", data=data, epochs=2, batch_size=8, max_steps_per_epoch=1)
    assert res["train_params"]["max_steps_per_epoch"] == 1
    ck = tr.load_checkpoint(tmp_path / "r" / "last.pt")
    assert all(int(s["step"]) == 2 for s in ck["optimizer"]["state"].values())  # Adam counted 2 steps, not 12
    with pytest.raises(ValueError, match="max_steps_per_epoch"):
        run(tmp_path, "bad", data=data, epochs=1, max_steps_per_epoch=0)
