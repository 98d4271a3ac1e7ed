#!/bin/sh
# provision-ward.sh — creates, rotates or revokes the MQTT credentials of a ward, the
# aggregator or an operator on the wardpulse production broker (broker-config/mosquitto.conf).
#
#   provision-ward.sh CODE [options]                     a ward (CODE = five digits, e.g. 00001),
#                                                        or on a city's broker a district that
#                                                        reports to it (three digits, e.g. 001)
#   provision-ward.sh [NAME] --role aggregator [options] the aggregator (NAME: wardpulse-aggregator)
#   provision-ward.sh NAME --role operator [options]     an operator (NAME starts with a letter)
#   provision-ward.sh NAME --role officer [options]      an officer of the district health
#                                                        office: NAME = officer-<district>[-<who>],
#                                                        e.g. officer-001-lan (district 001)
#
# Draws a random password (192 bits from /dev/urandom), sets it in the broker's password
# file with mosquitto_passwd, writes it to DIR/NAME.password (mode 0600) for the client,
# and prints the client's configuration (for a district: the lines of its bridge). Running it again for the same name ROTATES the
# password: the old one stops working when the broker reloads. --revoke deletes the account.
# For a new aggregator, operator or officer name it also appends the role's section to the ACL file
# (wards and districts need none: the %u patterns of the ACL cover every unit code).
#
# Options:
#   --role ward|aggregator|operator|officer   (default: ward)
#   --password-file F   the broker's password file (default: /etc/mosquitto/passwd; created
#                       if missing)
#   --acl-file F        the broker's ACL file (default: /etc/mosquitto/aclfile)
#   --dir D             where the client's password file goes (default: /etc/wardpulse);
#                       the printed configuration names D/NAME.password, so copy the file
#                       to the same path on the ward's PC
#   --broker-host H     the broker's name as the clients reach it, matching its certificate
#                       (default: this machine's fully qualified name)
#   --broker-port P     (default: 8883)
#   --cafile F          the CA certificate as the clients will find it (default:
#                       /etc/wardpulse/ca.crt)
#   --revoke            delete the account instead (its ACL section, if any, stays)
#
# Afterwards: copy DIR/NAME.password (and the CA certificate) to the client, then
# `systemctl reload mosquitto` so that the broker reads the password file again. The
# daemons read their password file before every connection, so they need no restart; a
# district's bridge (its password is in mosquitto.conf) needs the new password there and
# a restart of the district's broker.
set -eu

usage() {
    sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

die() {
    echo "provision-ward.sh: $*" >&2
    exit 1
}

name=""
role="ward"
password_file="/etc/mosquitto/passwd"
acl_file="/etc/mosquitto/aclfile"
dir="/etc/wardpulse"
broker_host=""
broker_port="8883"
cafile="/etc/wardpulse/ca.crt"
revoke=0

while [ $# -gt 0 ]; do
    case "$1" in
        --role) [ $# -ge 2 ] || usage; role="$2"; shift 2 ;;
        --password-file) [ $# -ge 2 ] || usage; password_file="$2"; shift 2 ;;
        --acl-file) [ $# -ge 2 ] || usage; acl_file="$2"; shift 2 ;;
        --dir) [ $# -ge 2 ] || usage; dir="$2"; shift 2 ;;
        --broker-host) [ $# -ge 2 ] || usage; broker_host="$2"; shift 2 ;;
        --broker-port) [ $# -ge 2 ] || usage; broker_port="$2"; shift 2 ;;
        --cafile) [ $# -ge 2 ] || usage; cafile="$2"; shift 2 ;;
        --revoke) revoke=1; shift ;;
        -h|--help) usage ;;
        -*) die "unknown option $1 (--help lists them)" ;;
        *) [ -z "$name" ] || die "more than one name given ($name, $1)"; name="$1"; shift ;;
    esac
done

# The name decides what the ACL grants, so it is checked strictly: a ward's name IS its
# topic (wardpulse/v1/report/<name>), and no other role may ever look like a ward.
newline='
'
case "$name$broker_port" in *"$newline"*) die "a name or port with a line break" ;; esac
case "$role" in
    ward)
        [ -n "$name" ] || die "a ward code is required (five digits, e.g. 00001)"
        echo "$name" | grep -Eqx '[0-9]{5}|[0-9]{3}' \
            || die "'$name' is not a ward code (five digits, e.g. 00001) nor a district code (three digits, e.g. 001)"
        ;;
    aggregator)
        [ -n "$name" ] || name="wardpulse-aggregator"
        echo "$name" | grep -Eqx '[A-Za-z][A-Za-z0-9._-]{0,63}' \
            || die "'$name' is not a valid aggregator name (a letter, then letters, digits, . _ -)"
        ;;
    operator)
        [ -n "$name" ] || die "an operator name is required"
        echo "$name" | grep -Eqx '[A-Za-z][A-Za-z0-9._-]{0,63}' \
            || die "'$name' is not a valid operator name (a letter, then letters, digits, . _ -)"
        [ "$name" != "wardpulse-aggregator" ] || die "'$name' is the aggregator's name"
        ;;
    officer)
        # The name carries the district whose control topics the officer may write.
        echo "$name" | grep -Eqx 'officer-([0-9]{3}|[0-9]{2})(-[A-Za-z0-9._]{1,48})?' \
            || die "'$name' is not a valid officer name (officer-<district code>[-<who>], e.g. officer-001-lan)"
        district=$(echo "$name" | cut -d- -f2)
        ;;
    *) die "unknown role '$role' (ward, aggregator, operator or officer)" ;;
esac
echo "$broker_port" | grep -Eqx '[0-9]{1,5}' || die "--broker-port: '$broker_port' is not a port"

command -v mosquitto_passwd >/dev/null 2>&1 \
    || die "mosquitto_passwd not found (Debian package: mosquitto)"

has_account() {
    cut -d: -f1 "$password_file" | grep -qxF "$1"
}

if [ "$revoke" -eq 1 ]; then
    [ -f "$password_file" ] || die "$password_file does not exist"
    has_account "$name" || die "$name has no account in $password_file"
    mosquitto_passwd -D "$password_file" "$name"
    rm -f "$dir/$name.password"
    echo "revoked $name in $password_file; now reload the broker (systemctl reload mosquitto)" >&2
    exit 0
fi

# An ACL section for an aggregator or operator name not yet in the ACL file (wards are
# covered by the patterns). Appended before the password exists, so the account is never
# usable without its section.
acl_section() {
    if [ "$1" = aggregator ]; then
        cat <<EOF

# aggregator $name (added by provision-ward.sh)
user $name
topic read wardpulse/v1/report/+
topic read wardpulse/v1/status/+
topic write wardpulse/v1/ack/+
topic readwrite wardpulse/v1/alert/#
topic write wardpulse/v1/events/#
topic readwrite wardpulse/v1/level/#
topic readwrite wardpulse/v1/aggregator/#
topic read wardpulse/v1/control/+/+
topic write wardpulse/v1/control/+/reply/#
topic write wardpulse/v1/silences/#
topic readwrite wardpulse/v1/summary/#
topic readwrite wardpulse/v1/series/#
topic deny wardpulse/v1/report/$name
topic deny wardpulse/v1/status/$name
EOF
    elif [ "$1" = officer ]; then
        cat <<EOF

# officer $name of district $district (added by provision-ward.sh)
user $name
topic read wardpulse/v1/#
topic write wardpulse/v1/control/$district/+
topic deny wardpulse/v1/report/$name
topic deny wardpulse/v1/status/$name
EOF
    else
        cat <<EOF

# operator $name (added by provision-ward.sh)
user $name
topic read wardpulse/v1/#
topic read \$SYS/#
topic deny wardpulse/v1/report/$name
topic deny wardpulse/v1/status/$name
EOF
    fi
}
if [ "$role" != ward ]; then
    [ -f "$acl_file" ] || die "$acl_file does not exist (install broker-config/aclfile there, or give --acl-file)"
    if ! grep -qxF "user $name" "$acl_file"; then
        acl_section "$role" >> "$acl_file"
        echo "added an ACL section for $role $name to $acl_file" >&2
    fi
fi

# 24 random bytes as 48 hex digits: nothing in it a config or password file could misread.
password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
[ ${#password} -eq 48 ] || die "could not read /dev/urandom"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
client_file="$dir/$name.password"
tmp_file="$dir/.$name.password.$$"
trap 'rm -f "$tmp_file"' EXIT
# The client's copy first (in a temporary file, 0600 from the start), then the broker's
# hash, then the rename: a failure half-way leaves the old password working on both sides.
(umask 077 && printf '%s\n' "$password" > "$tmp_file")

action="created"
if [ -f "$password_file" ]; then
    ! has_account "$name" || action="rotated"
    mosquitto_passwd -b "$password_file" "$name" "$password"
else
    (umask 027 && mosquitto_passwd -c -b "$password_file" "$name" "$password")
    # The broker re-reads the file on reload after dropping root for the mosquitto user.
    if [ "$(id -u)" -eq 0 ] && getent group mosquitto >/dev/null 2>&1; then
        chgrp mosquitto "$password_file"
    fi
    chmod 0640 "$password_file"
fi
mv -f "$tmp_file" "$client_file"
trap - EXIT

if [ -z "$broker_host" ]; then
    broker_host=$(hostname -f 2>/dev/null || hostname)
fi

echo "$action credentials of $role $name: $password_file (broker), $client_file (client, mode 0600)" >&2
echo "next: copy $client_file to the client, then systemctl reload mosquitto" >&2
case "$role$name" in
    ward[0-9][0-9][0-9])
        cat <<EOF
# The bridge of district $name: in the district broker's bridge section (see
# bridge-example.conf), with the password of $client_file written in; keep that
# mosquitto.conf 0640 root:mosquitto, then restart the district's broker.
remote_username $name
remote_password $password
bridge_cafile $cafile
EOF
        exit 0
        ;;
esac
case "$role" in
    ward)
        cat <<EOF
# wardpulse-agent of ward $name: add to the agent's configuration file; copy
# $client_file and $cafile to the ward's PC at these paths.
ward $name
broker_host $broker_host
broker_port $broker_port
cafile $cafile
username $name
password_file $client_file
EOF
        ;;
    aggregator)
        cat <<EOF
# wardpulse-aggregator: add to the aggregator's configuration file.
broker_host $broker_host
broker_port $broker_port
cafile $cafile
username $name
password_file $client_file
EOF
        ;;
    operator)
        cat <<EOF
# operator $name: watch everything (one connection per account at a time)
mosquitto_sub -h $broker_host -p $broker_port --cafile $cafile -u $name -P "\$(cat $client_file)" -t 'wardpulse/v1/#' -v
EOF
        ;;
    officer)
        cat <<EOF
# officer $name: log in to the district's page with this name and the password of
# $client_file, or acknowledge from a terminal, e.g.
mosquitto_pub -h $broker_host -p $broker_port --cafile $cafile -u $name -P "\$(cat $client_file)" -q 1 -t 'wardpulse/v1/control/$district/ack' -m '{"v":1,"id":"r1","by":"$name","rule":"RULE","scope":"SCOPE"}'
EOF
        ;;
esac
