# QEMU lab: the remediation scenarios (issue 7) on seed 001's LVM layout. vg0 on /dev/vdc (3G,
# sparse) holds two small LVs, leaving the VG room for the snapshots taken before a discard.
# Two single-primary resources, ext4 mounted on node1 only (no cluster stack: a dual-primary OCFS2
# pair over a cut link would make o2cb self-fence, which is a different test). DRBD itself never
# discards after a split brain here (after-sb-* disconnect): hapair's policy decides.
#   rm0: split_brain manual (the default): a split brain is reported, nothing discarded.
#   rm1: victim node2 with snapshot_before_discard: node2's changes go, kept in an LVM snapshot.
# orch.hapair.bootstrap makes vg0 and the LVs (hapair_lvm.present) and the DRBD part; the lab test
# formats and mounts ext4 itself (the orchestration's mkfs/mount steps handle OCFS2 only).
hapair:
  topologies:
    lab_remedy:
      nodes:
        node1:
          minion_id: node1
          address: 10.99.0.1
        node2:
          minion_id: node2
          address: 10.99.0.2
      lvm:
        vg0:
          pvs: [/dev/vdc]
          lvs:
            rm0: 64M
            rm1: 64M
      drbd:
        dialect: auto
        global:
          usage-count: "no"
        common:
          net:
            protocol: C
            ping-timeout: 10
          disk:
            resync-rate: 100M
        resources:
          rm0:
            minor: 0
            port: 7795
            disk: /dev/vg0/rm0
            meta_disk: internal
            mode: single-primary
            primary: node1
            initial_sync: skip
            after_sb_0pri: disconnect
            after_sb_1pri: disconnect
            after_sb_2pri: disconnect
            net:
              connect-int: 2
            remediation:
              reconnect: true
              rejoin_after_reboot: true
              split_brain: manual
              max_attempts: 5
              cooldown: 5
          rm1:
            minor: 1
            port: 7796
            disk: /dev/vg0/rm1
            meta_disk: internal
            mode: single-primary
            primary: node1
            initial_sync: skip
            after_sb_0pri: disconnect
            after_sb_1pri: disconnect
            after_sb_2pri: disconnect
            net:
              connect-int: 2
            remediation:
              reconnect: true
              rejoin_after_reboot: true
              split_brain: victim
              victim: node2
              snapshot_before_discard: true
              max_attempts: 5
              cooldown: 5
      filesystems:
        rm0fs:
          resource: rm0
          type: ext4
          mountpoint: /srv/rm0
          mount_options: [noatime]
        rm1fs:
          resource: rm1
          type: ext4
          mountpoint: /srv/rm1
          mount_options: [noatime]
      cluster:
        stack: none
