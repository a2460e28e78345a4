# hapair example pillar: every topology to every minion. A minion only acts on the
# topologies whose nodes name its minion id (hapair.topology.for_minion).
# The lab_* topologies are alternatives for the same two QEMU nodes (minion ids node1/node2,
# which seed 003's `crossed` topology also names): states pick a topology by name; apply one
# lab topology at a time.
base:
  '*':
    - hapair.web
    - hapair.fileserver
    - hapair.apache
    - hapair.lab_apache
    - hapair.crossed
    - hapair.lab_crossed
    - hapair.hardcore
    - hapair.lab_web
    - hapair.lab_fileserver
    - hapair.lab_gfs2
    - hapair.lab_remedy
  'hapair_beacons:drbd':
    - match: grain
    - lab_beacon
