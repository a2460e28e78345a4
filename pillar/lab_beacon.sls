# The drbd beacon for the lab's remediation scenarios (issue 7), given by pillar/top.sls only to
# minions with the grain `hapair_beacons: drbd` (tests/lab/remedy.py sets it for its run and
# removes it after), so the other lab scenarios run without events. The grain lives in the
# minion's grains file and so survives a reboot, like a real deployment's beacon config.
# Interval 1 s: each interval costs one select() on `drbdsetup events2` (or, on DRBD 8.4 where
# events2 is missing, one read of /proc/drbd) and a stat of hapair's handler records.
beacons:
  drbd:
    - interval: 1
    - mode: auto
