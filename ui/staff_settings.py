"""Staff: generator checkpoint, samples and thresholds (saved to the TOML config), and the pause switch."""

from __future__ import annotations

import streamlit as st

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.models.generator import describe_generator
from ui.settings_store import config_path, read_ui_settings, save_engine_settings, set_paused


def render(config: Config) -> None:
    st.header("⚙️ Settings")
    _pause_switch(config)
    _engine_settings(config)


def _pause_switch(config: Config) -> None:
    st.subheader("Student page")
    paused = read_ui_settings(config).paused
    wanted = st.toggle("Pause StudyBuddy (students see \"StudyBuddy is resting — ask your teacher\")", value=paused,
                       key="pause_switch")
    if wanted != paused:
        set_paused(config, wanted)
        st.success("StudyBuddy is paused for students." if wanted else "StudyBuddy is answering students again.")


def _engine_settings(config: Config) -> None:
    st.subheader("Answering and checking")
    v = config.verification
    with st.form("engine_settings"):
        generator = st.text_input("Generator checkpoint (folder, .gguf file or packaged:NAME)", value=config.generator)
        samples = st.number_input("Answers drawn per question (self-consistency samples)", 1, 16, v.samples)
        mode = st.selectbox("When to vote and ask check questions", ["always", "cascade"], index=["always", "cascade"].index(v.mode))
        support = st.slider("A passage backs a claim from p(supported) =", 0.05, 0.95, float(v.support_threshold), 0.05)
        contradiction = st.slider("A passage contradicts a claim from p(contradicted) =", 0.05, 0.95, float(v.contradiction_threshold), 0.05)
        floor = st.slider("Unconfirmed claims below this p(supported) are left out", 0.0, 0.9, float(v.flag_floor), 0.05)
        saved = st.form_submit_button("Save settings")
    if not saved:
        return
    try:
        chosen = generator.strip() or config.generator
        if chosen != config.generator:  # a broken checkpoint is refused here, so students keep the working one
            from dataclasses import replace


            with st.spinner("Checking the checkpoint…"):
                describe_generator(replace(config, generator=chosen))
        path = save_engine_settings(
            config,
            {"generator": chosen},
            {"samples": int(samples), "mode": mode, "support_threshold": round(support, 2),
             "contradiction_threshold": round(contradiction, 2), "flag_floor": round(floor, 2)},
        )
    except StudyBuddyError as err:
        st.error(f"{err.problem} {err.fix}".strip())
        return
    st.success(f"Saved in {path}. The next question uses the new settings (the models reload once).")
    st.caption(f"Config file: {config_path(config)}")
