from harness import fuzz
from harness.fuzz import Intended, compare, parse

HEAD = "# d0 0000:01:00.0 group 3 kind 1\n# seed 7 calls 4\n"


def transcript(*lines: str, end: bool = True) -> fuzz.Run:
    return parse(HEAD + "".join(f"{ln}\n" for ln in lines)
                 + ("# end 4\n" if end else ""))


BASE = ("0 open_container s0 fl=2 -> fd 0",
        "1 GROUP_STATUS s2 a=8 -> 0 0 h=d718a97e",
        "2 pwrite s4 o=70000000004 n=2 -> skip")


def test_parse_calls_notes_and_end():
    run = transcript(*BASE, "3 mmap s4 m0 o=0 n=1000 p=3 fl=1 -> 0 0 sig=7")
    assert run.complete
    assert [c.index for c in run.calls] == [0, 1, 2, 3]
    assert run.calls[1].op == "GROUP_STATUS s2 a=8"
    assert run.calls[1].result == "0 0 h=d718a97e"
    assert run.calls[3].result == "0 0 sig=7"
    assert run.notes[1] == "# seed 7 calls 4"
    assert run.calls[2].line == BASE[2]


def test_parse_tolerates_crlf_and_noise():
    run = parse("noise\r\n0 close s3 -> -1 9\r\n")
    assert run.calls[0].result == "-1 9" and not run.complete


def test_identical_runs_agree():
    result = compare(transcript(*BASE), transcript(*BASE), ())
    assert result.ok and result.compared == 3 and not result.intended


def test_first_divergence_stops_the_comparison():
    ours = transcript(*BASE, "3 RESET s4 -> -1 22", "4 RESET s4 -> -1 22")
    up = transcript(*BASE, "3 RESET s4 -> 0 0", "4 RESET s4 -> 0 0")
    result = compare(ours, up, ())
    assert not result.ok and result.compared == 3
    div = result.divergence
    assert div is not None and div.index == 3
    assert div.ours is not None and div.ours.result == "-1 22"
    assert div.upstream is not None and div.upstream.result == "0 0"


def test_intended_difference_is_passed_over_and_recorded():
    entry = Intended(r"^MAP .* i=ffffffffffff", "6.18's EOVERFLOW",
                     ours=r"-1 75")
    ours = transcript("0 MAP s0 i=ffffffffffffff00 -> -1 75",
                      "1 close s0 -> 0 0")
    up = transcript("0 MAP s0 i=ffffffffffffff00 -> -1 22",
                    "1 close s0 -> 0 0")
    result = compare(ours, up, (entry,))
    assert result.ok and result.compared == 1
    assert [(c.index, e) for c, _, e in result.intended] == [(0, entry)]


def test_intended_difference_holds_ours_to_its_result():
    entry = Intended(r"^MAP ", "why", ours=r"-1 75")
    ours = transcript("0 MAP s0 -> -1 22")
    up = transcript("0 MAP s0 -> 0 0")
    assert not compare(ours, up, (entry,)).ok


def test_unsafe_placeholder_checks_ours_only():
    entry = Intended(r"^IOEVENTFD .* o=8", "upstream oopses", ours=r"-1 22")
    line = "0 IOEVENTFD s4 a=32 f=1 o=8000000000000000 fd=s"
    up = transcript(f"{line} -> unsafe")
    good = compare(transcript(f"{line} -> -1 22"), up, (entry,))
    assert good.ok and len(good.intended) == 1
    bad = compare(transcript(f"{line} -> 0 0"), up, (entry,))
    assert not bad.ok and "ours should give" in bad.divergence.why
    unlisted = compare(transcript(f"{line} -> -1 22"), up, ())
    assert not unlisted.ok and "no expected result" in \
        unlisted.divergence.why


def test_default_list_covers_the_upstream_ioeventfd_oops():
    line = "5 IOEVENTFD s4 a=32 f=2 o=ffffffffffffffff fd=s"
    result = compare(transcript(f"{line} -> -1 22"),
                     transcript(f"{line} -> unsafe"))
    assert result.ok and not result.gaps


# A made-up gap of ours, to test the mechanism (KNOWN_GAPS is empty today).
FEATURE_GAP = fuzz.Intended(r"^(FEATURE|DIRTY) s[456] ", "test gap",
                            ours=r"-1 25 .*", gap=True)
BIND_GAP = fuzz.Intended(r"^IOCTL s[456] nr=3b76( null)?$", "test gap",
                         ours=r"-1 25", upstream=r"-1 (22|14)", gap=True)


def test_known_gap_is_reported_as_gap():
    line = "0 FEATURE s4 a=8 f=20003"
    result = compare(transcript(f"{line} -> -1 25 h=1"),
                     transcript(f"{line} -> 0 0 h=1"), (FEATURE_GAP,))
    assert result.ok and len(result.gaps) == 1
    assert "XFAIL" in fuzz.summary(1, 1, "m", result)


def test_misaligned_sequences_are_a_fuzzer_bug():
    result = compare(transcript("0 close s3 -> 0 0"),
                     transcript("0 close s4 -> 0 0"), ())
    assert not result.ok and "sequences differ" in result.divergence.why


def test_a_shorter_run_diverges_where_it_stopped():
    ours = transcript(*BASE[:2], end=False)
    result = compare(ours, transcript(*BASE), ())
    div = result.divergence
    assert div is not None and div.index == 2 and div.ours is None
    assert "ours run stopped" in div.why


def test_an_unfinished_run_of_equal_length_fails():
    result = compare(transcript(*BASE), transcript(*BASE, end=False), ())
    assert not result.ok and "upstream run did not finish" in \
        result.divergence.why


def test_failure_names_seed_call_both_lines_and_context():
    ours = transcript(*BASE, "3 RESET s4 -> -1 22")
    up = transcript(*BASE, "3 RESET s4 -> 0 0")
    text = fuzz.format_failure(42, 100, "q35-intel", ours, up,
                               compare(ours, up, ()))
    assert "call 3 (seed 42, q35-intel)" in text
    assert "ours:     3 RESET s4 -> -1 22" in text
    assert "upstream: 3 RESET s4 -> 0 0" in text
    assert all(f"  {ln}" in text for ln in BASE)
    assert "--seed 42 --calls 100 --machine q35-intel" in text


def test_differing_lists_every_unlisted_difference():
    ours = transcript("0 A -> 1 0", "1 B -> 0 0", "2 C -> 1 0")
    up = transcript("0 A -> 0 0", "1 B -> 0 0", "2 C -> 0 0")
    assert [a.index for a, _ in fuzz.differing(ours, up, ())] == [0, 2]


def test_chunks_cover_every_line_once():
    assert fuzz.chunks(0) == []
    assert fuzz.chunks(5, 2) == [(1, 2), (3, 4), (5, 5)]
    assert fuzz.chunks(4, 2) == [(1, 2), (3, 4)]


def test_command_sends_unsafe_inputs_only_when_asked():
    cmd = fuzz.command(3, 10, True, "/tmp/o", 60)
    assert "--seed 3 --calls 10 --unsafe > /tmp/o" in cmd
    assert cmd.startswith("timeout -s KILL 60 /tests/vfio_fuzz")
    safe = fuzz.command(3, 10, False, "/tmp/o", 60)
    assert "--unsafe" not in safe


def test_command_passes_every_withheld_flag(monkeypatch):
    monkeypatch.setattr(fuzz, "WITHHELD", {"--withhold-x": "a gap"})
    assert "--calls 10 --withhold-x > /tmp/o" in fuzz.command(
        3, 10, False, "/tmp/o", 60)


def test_save_writes_one_transcript_per_set(tmp_path):
    run = transcript(*BASE)
    fuzz.save({"ours": run}, tmp_path / "f", "m-1")
    text = (tmp_path / "f" / "m-1-ours.txt").read_text()
    assert BASE[0] in text and "# end 4" in text


def test_intended_difference_can_hold_upstream_too():
    line = "0 MAP s1 a=32 f=3 v=b+0 i=b0000 z=ffffffffffffffff"
    wraps = compare(transcript(f"{line} -> -1 75"),
                    transcript(f"{line} -> -1 22"))
    assert wraps.ok and len(wraps.intended) == 1
    other = compare(transcript(f"{line} -> -1 75"),
                    transcript(f"{line} -> 0 0"))
    assert not other.ok


def test_a_later_entry_covers_what_an_earlier_one_does_not():
    line = "0 DIRTY s5 a=56 f=4"
    result = compare(transcript(f"{line} -> -1 25 h=1"),
                     transcript(f"{line} -> -1 22 h=1"),
                     (BIND_GAP, FEATURE_GAP))
    assert result.ok and len(result.gaps) == 1


def test_a_listed_difference_in_success_ends_the_comparison():
    ours = transcript("0 FEATURE s4 a=32 f=20003 -> -1 25 h=1",
                      "1 mmap s4 m0 o=0 n=1000 p=3 fl=1 -> 0 0 sig=0")
    up = transcript("0 FEATURE s4 a=32 f=20003 -> 0 0 h=1",
                    "1 mmap s4 m0 o=0 n=1000 p=3 fl=1 -> 0 0 sig=7")
    result = compare(ours, up, (FEATURE_GAP,))
    assert result.ok and result.stopped is not None
    assert result.stopped.index == 0 and len(result.gaps) == 1
    assert "compared up to call 0" in fuzz.summary(1, 2, "m", result)


def test_a_gap_that_fits_does_not_stop_the_comparison():
    line = "0 IOCTL s4 nr=3b76 null"
    result = compare(transcript(f"{line} -> -1 25"),
                     transcript(f"{line} -> -1 14"), (BIND_GAP,))
    assert result.ok and len(result.gaps) == 1 and result.stopped is None
