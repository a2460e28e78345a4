# Seed 003: Blagovest Petrov, "Manual HA Failover Cluster with Linux Containers, DRBD and
# Btrfs": r0 runs on node1, r1 on node2 (crossed), Btrfs on each.
hapair:
  topologies:
    crossed:
      nodes:
        node1:
          address: 10.0.254.1
        node2:
          address: 10.0.254.2
      drbd:
        dialect: auto
        global:
          usage-count: "no"
        common:
          disk:
            resync-rate: 200M           # 8.3 `syncer { rate 200M; }`, in 8.4 syntax
        resources:
          r0:
            minor: 0
            device: /dev/drbd0
            port: 7788
            disk: /dev/sdb1
            meta_disk: internal
            protocol: C
            mode: crossed
            primary: node1
            initial_primary: node1      # overwrite-data-of-peer primary all, on node1
            initial_sync: full
            cram_hmac_alg: sha1
            shared_secret: "super_secret_random_code"
            startup:
              wfc-timeout: 15
              degr-wfc-timeout: 60
          r1:
            minor: 1                    # device /dev/drbd1 on node1 ...
            port: 7789
            disk: /dev/sdc1
            meta_disk: internal
            protocol: C
            mode: crossed
            primary: node2              # "promote r1 to the second node" after the sync
            initial_primary: node1
            initial_sync: full
            cram_hmac_alg: sha1
            shared_secret: "another_super_secret_code"
            startup:
              wfc-timeout: 15
              degr-wfc-timeout: 60
            nodes:
              node2:
                minor: 2                # ... and /dev/drbd2 on node2, as in the recipe
      partitions:                       # "a new partition table and just one, empty partition",
        /dev/sdb:                       # parted -a optimal: mklabel msdos, one partition
          table: msdos
        /dev/sdc:
          table: msdos
      filesystems:
        store1:
          resource: r0
          type: btrfs
          mountpoint: /srv/store1
          mount_on: []                # mounted where the group runs, never at boot
        store2:
          resource: r1
          type: btrfs
          mountpoint: /srv/store2
          mount_on: []                # mounted where the group runs, never at boot
      groups:                           # what moves with each resource (the seed's manual failover)
        store1:
          node: node1
          resource: r0
          filesystem: store1
          containers:
            mysql:                      # lxc-create -t ubuntu -n mysql -B btrfs, lxcpath on store1
              template: ubuntu
              backing: btrfs
              link: br0                 # /etc/lxc/default.conf's veth link in the seed
        store2:
          node: node2
          resource: r1
          filesystem: store2
      cluster:
        stack: none                     # no cluster manager: `salt-run hapair.failover` on the operator's command
