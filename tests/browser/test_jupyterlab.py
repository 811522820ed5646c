"""A real browser: JupyterLab in headless Chromium runs notebooks 00 and 07 with every cell
interactive (ci profile, headless off), as a learner would, and the widgets and plotly
figures must render in the page, not as text.

Needs Debian's `chromium` and `chromium-driver` (.ci/run and `make browser` install them);
selenium drives that system browser, nothing is downloaded. Screenshots of what rendered go
to FACEID_LAB_SCREENSHOTS (default: this test's tmp folder).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
MISSING = ("the browser test needs Debian's chromium and chromium-driver: `make browser` "
           "(apt-get install chromium chromium-driver)")
RUN_TIMEOUT_S = 420

# JupyterLab's own objects (exposed with --LabApp.expose_app_in_browser): the panel of notebook arguments[0].
FIND_JS = """
const app = window.jupyterapp;
let panel = null;
if (app) for (const w of app.shell.widgets('main')) if (w.context && w.context.path === arguments[0]) panel = w;
"""
STATE_JS = FIND_JS + """
if (!panel || !panel.content || !panel.sessionContext) return {ready: false};
const cells = panel.content.widgets.filter(w => w.model.type === 'code');
const errors = [];
for (const c of cells) for (const o of c.model.outputs.toJSON())
  if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
return {ready: !!kernel, status: kernel ? kernel.status : 'none', cells: cells.length,
        pending: cells.filter(c => c.model.executionCount === null).length, errors: errors};
"""
# Clear the committed outputs (and execution counts: then "pending" means not yet run), run all.
RUN_JS = FIND_JS + """
app.shell.activateById(panel.id);
app.commands.execute('notebook:clear-all-cell-outputs').then(() => app.commands.execute('notebook:run-all-cells'));
"""


# What a widget looks like when the page cannot show it: its Python repr, or the manager's notes.
TEXT_REPR = r"FigureWidget\(|VBox\(children|HBox\(children|interactive\(children|Error displaying widget|Loading widget"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on copies of notebooks 00 and 07 (its autosave must never touch the committed ones)."""
    if not (CHROMIUM and DRIVER):
        pytest.fail(MISSING)
    root = tmp_path_factory.mktemp("lab")
    for name in ("00_setup_and_data.ipynb", "07_umap_identity_clusters.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, root / name)
    settings = root / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the DOM (no windowing), so what rendered can be asserted
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = root / ".settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))  # no pop-up
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "FACEID_LAB_HEADLESS")}
    env.update(FACEID_LAB_PROFILE="ci", FACEID_LAB_HOME=str(tmp_path_factory.mktemp("labhome")),
               FACEID_LAB_TRAINING_LOCK=str(root / "training.lock"),
               JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"), JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"),
               JUPYTER_RUNTIME_DIR=str(root / ".runtime"))
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
                             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
                             f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(root / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"JupyterLab did not start in 60 s: {(root / 'lab.log').read_text()[-2000:]}")
    yield url, token
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    yield driver
    driver.quit()


def run_all(driver, lab, name: str) -> dict:
    """Open notebook `name` in JupyterLab, run all cells, wait for the kernel to finish."""
    url, token = lab
    driver.get(f"{url}/lab/tree/{name}?reset&token={token}")  # reset: no tabs restored from before
    began = time.monotonic()
    state = {}
    while time.monotonic() - began < 120:
        state = driver.execute_script(STATE_JS, name)
        if state.get("ready") and state.get("status") == "idle":
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"{name} never opened with an idle kernel: {state}")
    driver.execute_script(RUN_JS, name)
    time.sleep(2)
    while time.monotonic() - began < RUN_TIMEOUT_S:
        state = driver.execute_script(STATE_JS, name)
        if state["errors"]:
            pytest.fail(f"{name} raised in the browser: {state['errors'][0][:500]}")
        if state["status"] == "idle" and state["pending"] == 0:
            time.sleep(2)  # let the last widgets render
            return state
        time.sleep(1)
    pytest.fail(f"{name} did not finish in {RUN_TIMEOUT_S} s: {state}")


def rendered(driver, name: str) -> dict:
    """What the outputs show: plotly plots, widget sliders and images, and any text repr of a widget
    (after scrolling through every output, as a reader would: plotly draws a figure when it is shown)."""
    count = driver.execute_script(FIND_JS + "return panel.node.querySelectorAll('.jp-OutputArea-output').length;",
                                  name)
    for k in range(count):
        driver.execute_script(FIND_JS + "panel.node.querySelectorAll('.jp-OutputArea-output')[arguments[1]]"
                              ".scrollIntoView({block: 'center'});", name, k)
        time.sleep(0.3)
    time.sleep(1)
    return driver.execute_script(FIND_JS + """
const page = panel.node;
const outs = page.querySelectorAll('.jp-OutputArea-output');
const text = [...outs].map(o => o.innerText || '');
return {
  plotly: page.querySelectorAll('.jp-OutputArea-output.js-plotly-plot, .jp-OutputArea-output .js-plotly-plot').length,
  widget_plotly: page.querySelectorAll('.jp-OutputArea-output .widget-box .js-plotly-plot, '
                                           + '.jp-OutputArea-output .jupyter-widgets .js-plotly-plot').length,
  sliders: page.querySelectorAll('.jp-OutputArea-output .widget-slider').length,
  widget_images: page.querySelectorAll('.jp-OutputArea-output .widget-image, '
                                           + '.jp-OutputArea-output img.jupyter-widgets').length,
  mimes: [...page.querySelectorAll('.jp-OutputArea-output')].map(o => o.getAttribute('data-mime-type')),
  text_reprs: text.filter(t => new RegExp(arguments[1]).test(t)).length,
};""", name, TEXT_REPR)


def screenshot(driver, name: str, css: str, path: Path) -> Path:
    element = driver.execute_script(FIND_JS + "return panel.node.querySelector(arguments[1]);", name, css)
    assert element is not None, f"nothing matches {css} in {name}"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    time.sleep(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    element.screenshot(str(path))
    return path


def nudge_slider(driver, name: str, label: str, read_js: str, presses: int = 3) -> tuple:
    """Press the left arrow on the slider labelled `label` and wait until `read_js` (run in the
    panel) changes: the kernel received the new value and redrew. Returns (before, after)."""
    from selenium.webdriver.common.keys import Keys

    before = driver.execute_script(FIND_JS + read_js, name)
    handle = driver.execute_script(FIND_JS + """
for (const s of panel.node.querySelectorAll('.widget-slider'))
  if ((s.querySelector('.widget-label') || {}).innerText === arguments[1])
    return s.querySelector('.noUi-handle') || s.querySelector('input');
return null;""", name, label)
    assert handle is not None, f"no slider labelled {label!r} in {name}"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", handle)
    for _ in range(presses):
        handle.send_keys(Keys.ARROW_LEFT)
        time.sleep(0.3)
    began = time.monotonic()
    while time.monotonic() - began < 60:
        after = driver.execute_script(FIND_JS + read_js, name)
        if after != before:
            return before, after
        time.sleep(0.5)
    pytest.fail(f"moving the {label!r} slider changed nothing in {name} (the kernel never redrew)")


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("FACEID_LAB_SCREENSHOTS", tmp_path))


def test_notebook_00_explorer_renders_its_sliders_and_face(lab, browser, tmp_path):
    state = run_all(browser, lab, "00_setup_and_data.ipynb")
    seen = rendered(browser, "00_setup_and_data.ipynb")
    assert seen["text_reprs"] == 0, f"a widget showed as text: {seen}"
    assert seen["sliders"] >= 5, f"the SynthFaces explorer's sliders did not render: {seen}"
    assert seen["widget_images"] >= 1, f"the explorer's face did not render: {seen}"
    nudge_slider(browser, "00_setup_and_data.ipynb", "yaw",
                 "return panel.node.querySelector('.jp-OutputArea-output .widget-image').src;")
    shot = screenshot(browser, "00_setup_and_data.ipynb", ".jp-OutputArea-output .widget-box",
                      _shots(tmp_path) / "nb00_explorer.png")
    assert shot.stat().st_size > 5000 and state["cells"] > 5


def test_notebook_07_explorer_and_playground_render_as_widgets(lab, browser, tmp_path):
    run_all(browser, lab, "07_umap_identity_clusters.ipynb")
    seen = rendered(browser, "07_umap_identity_clusters.ipynb")
    assert seen["text_reprs"] == 0, f"a widget showed as text, not as a widget: {seen}"
    assert seen["widget_plotly"] >= 1, f"the explorer's FigureWidget did not render a plotly plot: {seen}"
    assert seen["plotly"] >= 3, f"the two plain plotly figures and the FigureWidget: {seen}"
    assert seen["sliders"] >= 3, f"the checkpoint slider and the playground's two sliders: {seen}"
    before, after = nudge_slider(browser, "07_umap_identity_clusters.ipynb", "checkpoint",
                                 "return JSON.stringify(panel.node.querySelector("
                                 "'.widget-box .js-plotly-plot').data[2].x);")
    assert before != after  # G's faces of an earlier checkpoint sit elsewhere
    shot = screenshot(browser, "07_umap_identity_clusters.ipynb", ".jp-OutputArea-output .widget-box .js-plotly-plot",
                      _shots(tmp_path) / "nb07_explorer.png")
    assert shot.stat().st_size > 5000
