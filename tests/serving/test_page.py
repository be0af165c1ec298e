"""The web page at / in a real headless browser (Debian's chromium and chromedriver, driven by
selenium): choose an image, read its top-1 and the latency off the page."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import SAMPLES
from server_process import ServerProcess

pytestmark = pytest.mark.xdist_group("serve_page")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def test_the_page_shows_the_top_classes_of_an_uploaded_image(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "ZOO_RUNTIME": "onnx"}
    with ServerProcess(["mnist_convnet"], env) as server:
        browser.get(server.url + "/")
        assert "zoo serve" in browser.title
        options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#model option")]
        assert options == ["mnist_convnet"]
        for digit in (3, 8):
            browser.find_element(By.ID, "files").send_keys(str(SAMPLES / f"digit_{digit}.png"))
            WebDriverWait(browser, 30).until(
                seen.text_to_be_present_in_element((By.ID, "status"), "ms")
            )
            first = browser.find_element(By.CSS_SELECTOR, ".result:first-child .prediction td")
            assert first.text == str(digit)
            rows = browser.find_elements(By.CSS_SELECTOR, ".result:first-child .prediction")
            assert len(rows) == 5
            status = browser.find_element(By.ID, "status").text
            assert status.startswith("mnist_convnet: 1 image(s) in ")
            browser.execute_script(
                "document.getElementById('status').textContent = '';"
                "document.getElementById('files').value = '';"
            )
        browser.find_element(By.ID, "gradcam").click()  # and now with the heat map
        browser.find_element(By.ID, "files").send_keys(str(SAMPLES / "digit_5.png"))
        heat = WebDriverWait(browser, 60).until(
            seen.presence_of_element_located((By.CSS_SELECTOR, ".result:first-child img.heat"))
        )
        assert heat.get_attribute("src").startswith("data:image/png;base64,")
        assert heat.get_attribute("naturalWidth") == "224"
        assert "Grad-CAM of 5" in heat.get_attribute("title")
