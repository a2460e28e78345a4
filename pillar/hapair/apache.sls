# Seed 002: Norman Maurer, ApacheCon EU 2009: active/passive Apache HTTPD with DRBD + heartbeat.
hapair:
  topologies:
    apache:
      nodes:
        node01:
          address: 10.0.0.2
        node02:
          address: 10.0.0.3
      drbd:
        dialect: auto
        global:
          usage-count: "yes"
        common:
          net:
            protocol: C                 # common { protocol C; } in 8.0 syntax
        resources:
          r0:
            minor: 0
            device: /dev/drbd0
            port: 7789
            disk: /dev/sda7
            meta_disk: internal
            mode: single-primary
            primary: node01
            initial_sync: full          # drbdadm -- --overwrite-data-of-peer primary r0
      filesystems:
        data:
          resource: r0
          type: ext3                    # mkfs.ext3 /dev/drbd0
          mountpoint: /drbd
          mount_on: []                  # heartbeat mounts it (Filesystem::/dev/drbd0::/drbd::ext3)
      groups:                           # haresources: node01 IPaddr::xxx drbddisk::r0 Filesystem::... drbdlinks apache2
        www:
          node: node01
          resource: r0
          filesystem: data
          ip:                           # the slide hides the VIP as xxx.xxx.xxx.xxx
            address: 192.0.2.10
            cidr: 24
            interface: eth0
          relocate: [/etc/apache2, /var/www, /usr/lib/cgi-bin]   # rsync -avz ... /drbd/; drbdlinks.conf
          services: [apache2]
          canary:                       # written where www runs, read from the other node through the VIP
            file: /var/www/html/hapair-canary.txt
            url_path: /hapair-canary.txt
      cluster:
        stack: heartbeat
        heartbeat:                      # /etc/heartbeat/ha.cf
          debugfile: /var/log/ha-debug
          logfile: /var/log/ha-log
          logfacility: local0
          keepalive: 2
          deadtime: 60
          warntime: 30
          initdead: 120
          udpport: 697
          auto_failback: "off"
          debug: 0
          media:                        # not on the slides: the dedicated "HA" NIC
            - type: bcast
              interface: eth1
          authkeys:                     # auth 1 / 1 sha1 your_super_secure_password
            method: sha1
            key: "your_super_secure_password"
