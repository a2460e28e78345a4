# Seed 000: HA WordPress (lowend.party), Part 4 "File Replication and Setting Up DRBD".
# Two VPSes, a 10 GB /dev/sdc1 on each, r0 dual-primary under OCFS2.
hapair:
  topologies:
    web:
      nodes:
        web1:
          hostname: web1.lowend.party   # the recipe's `on web1.lowend.party`
          minion_id: web1
          address: 1.1.1.1
        web2:
          hostname: web2.lowend.party
          minion_id: web2
          address: 2.2.2.2
      drbd:
        dialect: auto
        global:
          usage-count: "yes"            # global { usage-count yes; }
        common:
          net:
            protocol: C                 # common { net { protocol C; } }
        resources:
          r0:
            minor: 0
            device: /dev/drbd0
            port: 7788
            disk: /dev/sdc1
            meta_disk: internal
            protocol: C
            mode: dual-primary          # allow-two-primaries once initialised
            initial_primary: web1       # `drbdadm primary --force r0` on web1
            initial_sync: full
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            cram_hmac_alg: sha1
            shared_secret: "secret"
            startup:
              become-primary-on: both   # uncommented after the initial sync
      partitions:
        # "On both nodes, I partitioned /dev/sdc to add a single primary partition that took up
        # the whole disk" (fdisk: DOS label, first sector 2048): hapair_disk.partitioned, refused
        # on a disk with a table or a signature unless overwrite=True.
        /dev/sdc:
          table: msdos
          partition: /dev/sdc1
      filesystems:
        # Part 5 of the series (OCFS2 on /dev/drbd0, shared by both web nodes); the
        # mountpoint is the WordPress document root.
        www:
          resource: r0
          type: ocfs2
          slots: 2
          mountpoint: /var/www
          mount_options:
            - _netdev
            - noatime
      cluster:
        stack: o2cb
        name: webcluster
        o2cb:
          port: 7777
