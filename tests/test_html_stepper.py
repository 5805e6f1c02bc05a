"""The stepper in a real headless Chromium: every frame, clicked through, shows exactly one pass's gradients so far."""

import os
import shutil

import pytest

import tinygrad_lite as tl
from tests.seed_states import GRAPHS, STATES, build
from tinygrad_lite import seed, viz
from tinygrad_lite.naming import fmt

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or DRIVER is None or shutil.which("dot") is None) and "CI" not in os.environ,
    reason="needs chromium, chromedriver and dot (CI installs them)",
)

# Each panel of a stepper as the learner sees it: its step line and each node's name → grad line.
READ = r"""
const root = document.querySelectorAll('.tl-stepper')[arguments[0]];
return {counter: root.querySelector('.tl-counter').textContent,
  panels: [...root.querySelectorAll('.tl-panel')].map(p => {
    const grads = {};
    p.querySelectorAll('g.node').forEach(g => {
      const t = [...g.querySelectorAll('text')].map(x => x.textContent);
      if (t.length > 2 && t[1].startsWith('data ')) grads[t[0].replace(/\s*\[.*$/, '').trim()] = t[2];
    });
    return {step: p.querySelector('.tl-step').textContent, grads: grads,
            current: [...p.querySelectorAll('.tl-current')].length};
  })};
"""


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def expected_frames(L):
    """Frame k: the seed, then what steps 1..k made known (from the steps' own fields), by node name."""
    view = tl.backprop_steps(L).view
    names = view.names
    known = {names[L]: "grad 1"}
    frames = [(f"[0] seed: ∂{names[L]}/∂{names[L]} = 1", dict(known))]
    for step in L.backward_steps():
        for e in step.parents:
            known[e.name] = f"grad {fmt(e.grad)}"
        frames.append((str(step), dict(known)))
    everyone = {names[n] for n in view.nodes if n.requires_grad}
    return [(text, {n: got.get(n, "grad not computed yet") for n in everyone}) for text, got in frames]


def click(browser, k, act):
    from selenium.webdriver.common.by import By

    browser.find_elements(By.CSS_SELECTOR, f'.tl-stepper [data-act="{act}"]')[k].click()


@pytest.mark.parametrize("name", GRAPHS)
def test_every_frame_shows_exactly_the_gradients_known_after_its_step(name, browser, tmp_path):
    for passes in STATES:
        case = build(name, passes)
        before = case.grads()
        page = viz.stepper(case.L, explain=case.wrt).save(tmp_path / f"{passes}.html")
        assert case.grads() == before
        frames = expected_frames(case.L)
        browser.get(page.as_uri())
        for k, (text, grads) in enumerate(frames):
            if k:
                click(browser, 0, "next")
            shown = browser.execute_script(READ, 0)
            assert shown["counter"] == f"step {k} of {len(frames) - 1}"
            panel = shown["panels"][0]
            assert panel["step"] == text and panel["current"] == 1
            assert panel["grads"] == grads, (name, passes, k)
        names = tl.backprop_steps(case.L).view.names
        for leaf, value in case.closed.items():  # the last frame: the closed forms, one pass
            assert panel["grads"][names[leaf]] == f"grad {fmt(value)}"
        for n, value in case.interior.items():
            assert panel["grads"][names[n]] == f"grad {fmt(value)}"
        click(browser, 0, "next")  # past the end: stays on the last frame
        assert browser.execute_script(READ, 0)["counter"] == f"step {len(frames) - 1} of {len(frames) - 1}"
        click(browser, 0, "reset")
        assert browser.execute_script(READ, 0)["panels"][0]["grads"] == frames[0][1]
        assert case.grads() == before
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_explain_marks_the_paths_and_the_cancellation_on_every_frame(browser, tmp_path):
    z, _, L = seed.softmax_example("ce")
    page = viz.stepper(L, explain=z[0]).save(tmp_path / "s.html")
    browser.get(page.as_uri())
    red = r"""
      const root = document.querySelector('.tl-stepper');
      const paths = [...root.querySelectorAll('g.edge path')].filter(p => p.getAttribute('stroke') === '#dc2626');
      const notes = [...root.querySelectorAll('g.node text')].filter(t => t.textContent.includes('cancels'));
      return [paths.length, notes.length, root.querySelector('.tl-sub').textContent];"""
    first = browser.execute_script(red)
    assert first[0] >= 6 and first[1] == 2 and first[2].startswith("∂L/∂z0 = ŷ0 − 1")
    for _ in range(4):
        click(browser, 0, "next")
        assert browser.execute_script(red) == first


def test_several_graphs_step_together_under_one_set_of_controls(browser, tmp_path):
    z1, _, ce = seed.softmax_example("ce")
    z2, _, mse = seed.softmax_example("mse")
    st = viz.stepper({"CE": ce, "MSE": mse}, explain={"CE": z1[0], "MSE": z2[0]})
    page = st.save(tmp_path / "both.html")
    browser.get(page.as_uri())
    ce_frames, mse_frames = expected_frames(ce), expected_frames(mse)
    assert st.steps == len(mse_frames) - 1 > len(ce_frames) - 1
    for k in range(len(mse_frames)):
        if k:
            click(browser, 0, "next")
        shown = browser.execute_script(READ, 0)
        assert shown["counter"] == f"step {k} of {st.steps}"
        left, right = shown["panels"]
        assert right["step"] == mse_frames[k][0] and right["grads"] == mse_frames[k][1]
        if k < len(ce_frames):
            assert left["step"] == ce_frames[k][0] and left["grads"] == ce_frames[k][1]
        else:  # CE is done sooner: it keeps its last gradients
            assert left["step"].startswith("done") and left["grads"] == ce_frames[-1][1]
    assert left["grads"]["z0"] == f"grad {fmt(seed.closed_forms(_probs(z1), 0)['ce'][0])}"
    assert right["grads"]["z0"] == f"grad {fmt(seed.closed_forms(_probs(z2), 0)['mse'][0])}"


def _probs(z):
    import numpy as np

    e = np.exp([v.data for v in z])
    return e / e.sum()


def test_arrow_keys_move_only_the_stepper_with_focus_or_under_the_pointer(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, _, a = seed.softmax_example("ce")
    _, _, b = seed.sigmoid_example("bce")
    one, two = viz.stepper(a), b.stepper()
    page = tmp_path / "two.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"{one._repr_html_()}<p style='height:40px'>between</p>{two._repr_html_()}</body></html>",
                    encoding="utf-8")
    browser.get(page.as_uri())
    ids = browser.execute_script("return [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids))  # unique element ids on one page
    assert browser.execute_script("return ['show', 'play', 'data', 'root', 'key', 'timer'].every(n => !(n in window))")

    def counters():
        return [browser.execute_script(READ, k)["counter"].split()[1] for k in (0, 1)]

    steppers = browser.find_elements(By.CLASS_NAME, "tl-stepper")
    steppers[0].click()
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT).perform()
    assert counters() == ["2", "0"]
    steppers[1].click()
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    assert counters() == ["2", "1"]
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
    assert counters() == ["2", "0"]
    browser.execute_script("document.activeElement.blur()")  # nothing focused: the one under the pointer
    ActionChains(browser).move_to_element(steppers[0]).send_keys(Keys.ARROW_LEFT).perform()
    assert counters() == ["1", "0"]


def test_backprop_html_is_an_offline_page_whose_arrow_keys_work(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, _, L = seed.softmax_example("mse")
    page = viz.backprop_html(L, tmp_path / "steps.html")
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    browser.get(page.as_uri())
    frames = expected_frames(L)
    body = browser.find_element(By.TAG_NAME, "body")
    for k in range(1, 4):
        body.send_keys(Keys.ARROW_RIGHT)  # the page's only stepper listens when nothing has focus
        assert browser.execute_script(READ, 0)["panels"][0]["step"] == frames[k][0]
    body.send_keys(Keys.ARROW_LEFT)
    assert browser.execute_script(READ, 0)["panels"][0]["step"] == frames[2][0]
