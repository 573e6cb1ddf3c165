"""Style-mixing matrix: the job (no Qt), and the panel driven offscreen with a tiny model."""

from dataclasses import replace

import numpy as np
import pytest

from batikstudio.app.mixing_panel import (
    MixingMatrixRequest, MixingPanel, cell_state, header_state, mixing_matrix_job,
)
from batikstudio.app.motif_state import MotifViewModel
from batikstudio.app.session import Session
from batikstudio.io.favourites import Favourite
from batikstudio.io.models import open_model
from batikstudio.jobs import Cancelled, RecordingContext
from batikstudio.render.engine import render
from batikstudio.render.motif import MotifState

TIMEOUT = 20000


@pytest.fixture
def model(tiny_model_file):
    return open_model(tiny_model_file)


def test_job_renders_headers_and_mixed_cells(model):
    base = MotifState(seed=0, class_index=1, psi=0.8)
    req = MixingMatrixRequest(model, base, (1, 2), (7, 8, 9), "coarse")
    ctx = RecordingContext()
    result = mixing_matrix_job(req, ctx)
    assert result.rows.shape == (2, 32, 32, 3) and result.cols.shape == (3, 32, 32, 3)
    assert result.cells.shape == (2, 3, 32, 32, 3)
    assert np.array_equal(result.cells[1, 2], render(model, cell_state(base, 2, 9, "coarse").request()).images[0])
    assert np.array_equal(result.rows[0], render(model, header_state(base, 1, "coarse").request()).images[0])
    assert np.array_equal(result.cols[1], render(model, replace(base, seed=8).request()).images[0])
    assert not np.array_equal(result.cells[0, 0], result.rows[0])  # the coarse range changed it
    kinds = [p[0] for p in ctx.partials]
    assert kinds.count("row") == 2 and kinds.count("col") == 3 and kinds.count("cell") == 6
    assert ctx.progress_log[-1] == (11, 11)
    with pytest.raises(Cancelled):
        mixing_matrix_job(req, RecordingContext(cancel_after=3))


def test_header_state_clears_only_the_mixed_range():
    base = MotifState(seed=3).with_mix("coarse", 5).with_mix("fine", 6)
    assert header_state(base, 4, "coarse").mix == base.with_mix("coarse", None).mix
    assert cell_state(base, 4, 9, "coarse").mix_seed("coarse") == 9
    assert cell_state(base, 4, 9, "coarse").mix_seed("fine") == 6


@pytest.fixture
def panel(qtbot, model):
    session = Session("cpu")
    vm = MotifViewModel()
    p = MixingPanel(session, vm)
    qtbot.addWidget(p)
    p.resize(600, 600)
    p.set_model(model)
    vm.reset(MotifState(seed=0, class_index=0, psi=0.7))
    yield p
    assert p.shutdown()


def _render(qtbot, panel):
    with qtbot.waitSignal(panel.matrixReady, timeout=TIMEOUT) as blocker:
        panel.render_button.click()
    return blocker.args[0]


def test_panel_renders_and_click_applies_mix_undoably(qtbot, panel, model):
    from PySide6.QtCore import Qt

    panel.row_edit.setText("3,4")
    panel.col_edit.setText("20-22")
    panel.range_box.setCurrentText("middle")
    result = _render(qtbot, panel)
    assert result.request.row_seeds == (3, 4) and result.request.col_seeds == (20, 21, 22)
    assert len(panel.matrix.pixmaps) == 2 + 3 + 6
    panel.show()
    before = panel.vm.state
    with qtbot.waitSignal(panel.applied, timeout=TIMEOUT):
        qtbot.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=panel.matrix.cell_rect(1, 2).center())
    state = panel.vm.state
    assert state.seed == 4 and state.mix_seed("middle") == 22 and state.psi == before.psi
    # the motif the view-model now holds renders exactly as the clicked cell
    assert np.array_equal(render(model, state.request()).images[0], result.cells[1, 2])
    panel.vm.undo_stack.undo()
    assert panel.vm.state == before
    qtbot.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=panel.matrix.cell_rect(-1, 0).center())
    assert panel.vm.state.seed == 20 and panel.vm.state.mix_seed("middle") is None


def test_rows_and_columns_from_favourites(qtbot, panel, model):
    store = panel.session.favourites
    for seed, psi in ((12, 0.5), (5, 0.7), (12, 0.9)):  # seed 12 twice, with different settings
        state = MotifState(seed=seed, class_index=0, psi=psi).to_dict()
        store.toggle(Favourite(model.sha256, str(model.path), "tiny", state))
    store.toggle(Favourite("0" * 64, "other.safetensors", "other", MotifState(seed=99).to_dict()))
    panel.rows_fav.click()
    assert panel.row_edit.text() == "12,5"
    panel.cols_fav.click()
    assert panel.col_edit.text() == "12,5"


def test_bad_seed_lists_are_reported(qtbot, panel):
    panel.row_edit.setText("3,x")
    panel.render_button.click()
    assert "Cannot render" in panel.info.text() and not panel.job_bar.running
    panel.row_edit.setText("0-20")
    panel.render_button.click()
    assert "at most 8 row seeds" in panel.info.text()


def test_new_model_drops_the_matrix(qtbot, panel, model):
    panel.row_edit.setText("1")
    panel.col_edit.setText("2")
    _render(qtbot, panel)
    panel.set_model(model)
    assert panel.result is None and not panel.matrix.pixmaps
    assert panel.state_for_cell(0, 0) is None


def test_in_main_window_a_click_rerenders_the_motif(qtbot, tiny_model_file):
    from PySide6.QtCore import Qt

    from batikstudio.app.main import create_window, make_application

    make_application()
    win = create_window(tiny_model_file, "cpu")
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.mixing.model_obj is not None and win.animate.model_obj is not None,
                        timeout=TIMEOUT)
        win.mixing.row_edit.setText("2")
        win.mixing.col_edit.setText("6,7")
        with qtbot.waitSignal(win.mixing.matrixReady, timeout=TIMEOUT):
            win.tabs.setCurrentWidget(win.mixing)  # showing the tab renders the matrix
        result = win.mixing.result
        qtbot.mouseClick(win.mixing.matrix, Qt.MouseButton.LeftButton,
                         pos=win.mixing.matrix.cell_rect(0, 1).center())
        # earlier renders (model opened, directions found) may still arrive: wait for this one
        qtbot.waitUntil(lambda: win.motif.last_result is not None
                        and win.motif.last_result.request.mix == win.vm.state.mix != (), timeout=TIMEOUT)
        shown = win.motif.last_result
        assert shown.request.seeds == (2,) and shown.request.mix[0].seed == 7
        assert np.array_equal(shown.images[0], result.cells[0, 1])
        assert win.undo_action.isEnabled()
    finally:
        assert win.shutdown()
