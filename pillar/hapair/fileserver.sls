# Seed 001: Alexis Huxley's replicated storage server (fiori + torchio): two DRBD resources
# on LVM, dual-primary, OCFS2 for many small files (mail) and VM images (vmstore), NFS.
hapair:
  topologies:
    fileserver:
      nodes:
        fiori:
          address: 192.168.1.6
        torchio:
          address: 192.168.1.7
      lvm:
        # "Pdi partitions the disk using a preseeded partman recipe ... It also creates LVs for root
        # and swap": vg0 exists before hapair runs, so no pvs here (nothing is pvcreated).
        vg0:
          lvs:
            rep-no:                             # unreplicated: ext4 on each node, not shared
              size: 100G
              filesystem: ext4
              mountpoint: /vol/rep-no
              mount_options: [noatime, nodiratime]
            rep-drbd0: 200G                     # DRBD drbd0 (/dev/mapper/vg0-rep--drbd0)
            rep-drbd1: 200G                     # DRBD drbd1
            rep-unison:                         # two-way unison between the nodes, not DRBD
              size: 2T
              filesystem: ext4
              mountpoint: /vol/rep-unison
              mount_options: [noatime, nodiratime]
      unison:
        # "Nominate one machine as the client and the other as the server": the client's profile
        # has `root = ssh://fiori//vol/rep-unison/`, so torchio is the client. The pair's ssh key
        # comes from the hapair_secrets ext_pillar (made once, never in the pillar files).
        profiles:
          vol-rep-unison:
            root: /vol/rep-unison
            client: torchio
            schedule: "0 0 * * *"               # echo '0 0 * * * root unison vol-rep-unison' > /etc/cron.d/unison
            logfile: /var/log/unison.log        # rotated daily, compressed, 28 kept
            rotate: 28
      drbd:
        dialect: auto
        common:
          # "Tuning: a workaround for the latency introduced by Powerline equipment"
          startup:
            wfc-timeout: 120
          net:
            ping-int: 30
            ping-timeout: 60
        resources:
          drbd0:
            minor: 0
            device: /dev/drbd0
            port: 7790
            disk: /dev/mapper/vg0-rep--drbd0
            meta_disk: internal
            protocol: C
            mode: dual-primary                  # net { allow-two-primaries; }
            initial_sync: skip                  # both LVs empty: --clear-bitmap new-current-uuid
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            handlers:
              before-resync-target: "/sbin/drbdsetup $DRBD_MINOR secondary"
              split-brain: "/usr/lib/drbd/notify-split-brain.sh root"
          drbd1:
            minor: 1
            device: /dev/drbd1
            port: 7791
            disk: /dev/mapper/vg0-rep--drbd1
            meta_disk: internal
            protocol: C
            mode: dual-primary
            initial_sync: skip
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            handlers:
              before-resync-target: "/sbin/drbdsetup $DRBD_MINOR secondary"
              split-brain: "/usr/lib/drbd/notify-split-brain.sh root"
      filesystems:
        ocfs2-small:                            # MODE=mail, for many small files
          resource: drbd0
          type: ocfs2
          mkfs_type: mail
          feature_level: max-features
          mountpoint: /vol/ocfs2-small
          mount_options: [_netdev, noatime, data=writeback, commit=60, nodiratime]
        ocfs2-large:                            # MODE=vmstore, for VM images
          resource: drbd1
          type: ocfs2
          mkfs_type: vmstore
          feature_level: max-features
          mountpoint: /vol/ocfs2-large
          mount_options: [_netdev, noatime, data=writeback, commit=60, nodiratime]
      tuning:
        sysctl:                                 # "Tuning": BTS#666021's workaround, reboot on panic
          vm.min_free_kbytes: 65536
          kernel.panic: 10
      cluster:
        stack: o2cb
        name: ocfs2                             # cluster: name = ocfs2
        o2cb:
          port: 7777
          heartbeat_threshold: 61               # "Tuning": /etc/default/o2cb
          idle_timeout_ms: 60000
          keepalive_delay_ms: 4000
          reconnect_delay_ms: 4000
      nfs:
        links:                                  # the seed's public names: mkdir the target, ln -s on each node
          /vol/scratch: /vol/rep-no/scratch
          /vol/vmpool0: /vol/rep-no/vmpool0
          /vol/pub: /vol/rep-unison/pub
          /vol/home: /vol/ocfs2-small/home
          /vol/mail: /vol/ocfs2-small/mail
          /vol/wikis: /vol/ocfs2-small/wikis
          /vol/svn: /vol/ocfs2-small/svn
          /vol/vmpool1: /vol/ocfs2-large/vmpool1
        exports:
          - path: /vol/pub
            clients: "*"
            options: [rw, no_root_squash, sync, subtree_check]
          - path: /vol/home
            clients: "*"
            options: [rw, no_root_squash, sync, subtree_check]
          - path: /vol/mail
            clients: "*"
            options: [rw, no_root_squash, sync, subtree_check]
          - path: /vol/wikis
            clients: "*"
            options: [rw, no_root_squash, sync, subtree_check]
          - path: /vol/svn
            clients: "*"
            options: [rw, no_root_squash, sync, subtree_check]
