# Seed 004: "Replicated Failover Domain Controller", 6.5/6.6: DRBD dual-primary with GFS2
# on cman (cluster "hardcore"), fence_ipmilan, rgmanager failover domains and six VMs.
hapair:
  topologies:
    hardcore:
      nodes:
        core-01:
          address: 10.0.0.1
          cluster_address: 192.168.0.2  # cman_tool status: "Node addresses: 192.168.0.2"
          cluster_node_id: 1
        core-02:
          address: 10.0.0.2
          cluster_address: 192.168.0.3
          cluster_node_id: 2
      drbd:
        dialect: auto
        resources:
          r0:                           # /dev/cciss/c0d1p1: 250.0 GB
            minor: 0
            device: /dev/drbd0
            port: 7788
            disk: /dev/cciss/c0d1p1
            meta_disk: internal         # flexible-meta-disk internal
            protocol: C
            mode: dual-primary          # allow-two-primaries
            initial_primary: core-01
            initial_sync: full          # invalidate-remote / overwrite-data-of-peer on core-01
            after_sb_0pri: discard-least-changes
            after_sb_1pri: violently-as0p
            after_sb_2pri: violently-as0p
            cram_hmac_alg: sha1
            shared_secret: "123456"
            disk_section:
              on-io-error: detach
              resync-rate: 100M         # 8.2 `syncer { rate 100M; }`
            startup:
              become-primary-on: both
            net:
              rr-conflict: violently
          r1:                           # /dev/cciss/c0d2p1: 500.0 GB
            minor: 1
            device: /dev/drbd1
            port: 7789
            disk: /dev/cciss/c0d2p1
            meta_disk: internal
            protocol: C
            mode: dual-primary
            initial_primary: core-01
            initial_sync: full
            after_sb_0pri: discard-least-changes
            after_sb_1pri: violently-as0p
            after_sb_2pri: violently-as0p
            cram_hmac_alg: sha1
            shared_secret: "123456"
            disk_section:
              on-io-error: detach
              resync-rate: 125M
            startup:
              become-primary-on: both
            net:
              rr-conflict: violently
            nodes:                      # r1 replicates over the second link
              core-01:
                address: 10.0.1.1
              core-02:
                address: 10.0.1.2
      filesystems:
        gfs2-00:
          resource: r0
          type: gfs2
          lock_table: hardcore:gfs2-00  # mkfs.gfs2 -t hardcore:gfs2-00 -p lock_dlm -j 2
          slots: 2
          mountpoint: /gfs2-00
          mount_options: [defaults]
        gfs2-01:
          resource: r1
          type: gfs2
          lock_table: hardcore:gfs2-01
          slots: 2
          mountpoint: /gfs2-01
          mount_options: [defaults]
      cluster:
        stack: cman
        name: hardcore
        cman:
          config_version: 3
          cluster_id: 26333
          two_node: true
          expected_votes: 1
          dlm:
            plock_ownership: 1
            plock_rate_limit: 0
          gfs_controld:
            plock_rate_limit: 0
          fence_devices:                # the recipe hides ipaddr/passwd as xxx: documentation values
            core-01_ipmi:
              agent: fence_ipmilan
              action: reboot
              ipaddr: 192.0.2.1
              login: admin
              passwd: "ipmi-secret-core-01"
            core-02_ipmi:
              agent: fence_ipmilan
              action: reboot
              ipaddr: 192.0.2.2
              login: admin
              passwd: "ipmi-secret-core-02"
          nodes:
            core-01:
              votes: 1
              fence:
                - method: single
                  devices:
                    - name: core-01_ipmi
            core-02:
              votes: 1
              fence:
                - method: single
                  devices:
                    - name: core-02_ipmi
          failover_domains:
            core-01_domain:
              restricted: false
              nodes: [core-01]
            core-02_domain:
              restricted: false
              nodes: [core-02]
          vms:
            blueonyx_01:
              domain: core-01_domain
            rhel5_01:
              domain: core-01_domain
            winxp_01:
              domain: core-01_domain
            rhel5_02:
              domain: core-02_domain
            winxp_02:
              domain: core-02_domain
            winxp_03:
              domain: core-02_domain
