"""The HTML stepper in a real headless Chromium: → N times shows backprop step N."""

import os
import shutil

import pytest

from tinygrad_lite import seed, viz
from tinygrad_lite.naming import fmt

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or DRIVER is None or shutil.which("dot") is None) and "CI" not in os.environ,
    reason="needs chromium, chromedriver and dot (CI installs them)",
)


def seed_graph():
    z, _, L = seed.softmax_example("mse")
    return z, L


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


def test_arrow_keys_walk_through_the_steps(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    z, L = seed_graph()
    page = viz.backprop_html(L, tmp_path / "steps.html")
    z2, L2 = seed_graph()  # the same program, stepped in Python
    steps = []
    for step in L2.backward_steps():
        steps.append((str(step), {e.name: fmt(e.parent.grad) for e in step.parents}))
    browser.get(page.as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    assert "Before backward" in browser.find_element(By.ID, "step").text
    body.send_keys(Keys.ARROW_RIGHT)  # frame 1: the seed
    assert "seed" in browser.find_element(By.ID, "step").text
    for n, (line, grads) in enumerate(steps, start=1):
        body.send_keys(Keys.ARROW_RIGHT)
        assert browser.find_element(By.ID, "step").text == line
        shown = browser.execute_script(
            "const out = {}; document.querySelectorAll('g.node').forEach(g => {"
            " const t = [...g.querySelectorAll('text')].map(x => x.textContent);"
            r" out[t[0].replace(/\s*\[.*$/, '').trim()] = t.find(s => s.startsWith('grad')); }); return out;")
        for name, value in grads.items():
            assert shown[name] == f"grad {value}", (n, name)
    body.send_keys(Keys.ARROW_LEFT)
    assert browser.find_element(By.ID, "step").text == steps[-2][0]
    browser.find_element(By.ID, "reset").click()
    assert "Before backward" in browser.find_element(By.ID, "step").text
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert "http://" not in page.read_text().replace("http://www.w3.org", "")
    assert [v.grad for v in z] == [v.grad for v in z2]  # writing the page ran the same backward
