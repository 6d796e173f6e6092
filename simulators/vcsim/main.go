// Command vcsim serves a vCenter simulator (govmomi's simulator library) whose
// inventory is built from a JSON topology: datacenters, clusters with DRS/HA
// settings, Dell hosts with their service tags, and VMs per host.
//
// The topology is produced by simulators/vcsim/topology.py from the fleet file,
// so the vCenter and iDRAC simulators describe the same datacenter.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type vmSpec struct {
	Name      string `json:"name"`
	CPUs      int32  `json:"cpus"`
	MemoryMB  int64  `json:"memory_mb"`
	PoweredOn bool   `json:"powered_on"`
}

type hostSpec struct {
	Name       string   `json:"name"`
	Vendor     string   `json:"vendor"`
	Model      string   `json:"model"`
	ServiceTag string   `json:"service_tag"`
	CPUCores   int16    `json:"cpu_cores"`
	CPUMhz     int32    `json:"cpu_mhz"`
	MemoryMB   int64    `json:"memory_mb"`
	VMs        []vmSpec `json:"vms"`
}

type haSpec struct {
	Enabled            bool   `json:"enabled"`
	AdmissionControl   string `json:"admission_control"` // none | failover_hosts | failover_level | percentage
	FailoverHosts      int    `json:"failover_hosts"`
	FailoverLevel      int32  `json:"failover_level"`
	CPUFailoverPercent int32  `json:"cpu_failover_percent"`
	MemFailoverPercent int32  `json:"memory_failover_percent"`
}

type drsSpec struct {
	Enabled    bool   `json:"enabled"`
	Automation string `json:"automation"` // manual | partiallyAutomated | fullyAutomated
}

type clusterSpec struct {
	Name  string     `json:"name"`
	DRS   drsSpec    `json:"drs"`
	HA    haSpec     `json:"ha"`
	Hosts []hostSpec `json:"hosts"`
}

type datacenterSpec struct {
	Name     string        `json:"name"`
	Clusters []clusterSpec `json:"clusters"`
}

type topology struct {
	Username    string           `json:"username"`
	Password    string           `json:"password"`
	Datacenters []datacenterSpec `json:"datacenters"`
}

func main() {
	topologyPath := flag.String("topology", "", "JSON topology file (required)")
	listen := flag.String("listen", "127.0.0.1:8989", "loopback host:port to serve on")
	certFile := flag.String("tls-cert", "", "PEM certificate (default: the library's built-in localhost certificate)")
	keyFile := flag.String("tls-key", "", "PEM private key for -tls-cert")
	flag.Parse()

	topo, err := readTopology(*topologyPath)
	if err != nil {
		log.Fatalf("vcsim: %v", err)
	}

	model := simulator.VPX()
	model.Datacenter = 0
	model.Host = 0
	model.Cluster = 0
	model.ClusterHost = 0
	model.Machine = 0
	model.Datastore = 0
	model.Portgroup = 0
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: create model: %v", err)
	}
	defer model.Remove()

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(topo.Username, topo.Password)}
	model.Service.TLS = new(tls.Config)
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			log.Fatalf("vcsim: load TLS certificate: %v", err)
		}
		model.Service.TLS.Certificates = []tls.Certificate{cert}
	}
	server := model.Service.NewServer()
	defer server.Close()

	defer removeTempDirs()
	if err := build(context.Background(), server.URL, topo); err != nil {
		removeTempDirs()
		log.Fatalf("vcsim: build topology: %v", err)
	}

	// The harness waits for this line before it talks to the simulator.
	fmt.Printf("READY %s\n", server.URL.Host)
	os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}

func readTopology(path string) (*topology, error) {
	if path == "" {
		return nil, fmt.Errorf("-topology is required")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	topo := new(topology)
	if err := json.Unmarshal(data, topo); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if topo.Username == "" || topo.Password == "" {
		return nil, fmt.Errorf("%s: username and password are required", path)
	}
	return topo, nil
}

// build creates the inventory through the vSphere API itself, then sets in process
// what the API cannot (hardware identity, HA admission control).
func build(ctx context.Context, u *url.URL, topo *topology) error {
	client, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return err
	}
	defer client.Logout(ctx)
	root := object.NewRootFolder(client.Client)

	for _, dcSpec := range topo.Datacenters {
		dc, err := root.CreateDatacenter(ctx, dcSpec.Name)
		if err != nil {
			return fmt.Errorf("datacenter %s: %v", dcSpec.Name, err)
		}
		folders, err := dc.Folders(ctx)
		if err != nil {
			return err
		}
		for _, clSpec := range dcSpec.Clusters {
			if err := buildCluster(ctx, folders, clSpec); err != nil {
				return fmt.Errorf("cluster %s: %v", clSpec.Name, err)
			}
		}
	}
	return nil
}

func buildCluster(ctx context.Context, folders *object.DatacenterFolders, spec clusterSpec) error {
	cluster, err := folders.HostFolder.CreateCluster(ctx, spec.Name, types.ClusterConfigSpecEx{})
	if err != nil {
		return err
	}
	var hostRefs []types.ManagedObjectReference
	var hosts []*object.HostSystem
	for _, hSpec := range spec.Hosts {
		task, err := cluster.AddHost(ctx, types.HostConnectSpec{HostName: hSpec.Name, Force: true}, true, nil, nil)
		if err != nil {
			return err
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return fmt.Errorf("host %s: %v", hSpec.Name, err)
		}
		ref := info.Result.(types.ManagedObjectReference)
		hostRefs = append(hostRefs, ref)
		hosts = append(hosts, object.NewHostSystem(cluster.Client(), ref))
		setHardware(ref, hSpec)
	}
	datastore := spec.Name + "-ds"
	if err := createSharedDatastore(ctx, datastore, hosts); err != nil {
		return fmt.Errorf("datastore %s: %v", datastore, err)
	}
	for i, hSpec := range spec.Hosts {
		if err := buildVMs(ctx, folders, hosts[i], datastore, hSpec); err != nil {
			return fmt.Errorf("host %s: %v", hSpec.Name, err)
		}
	}
	setClusterConfig(cluster.Reference(), spec, hostRefs)
	return nil
}

// tempDirs back the simulated datastores; they are removed when the simulator exits.
var tempDirs []string

// createSharedDatastore gives every host of a cluster the same datastore, as shared
// storage does, so VMs can move between the hosts.
func createSharedDatastore(ctx context.Context, name string, hosts []*object.HostSystem) error {
	dir, err := os.MkdirTemp("", "vcsim-"+name+"-")
	if err != nil {
		return err
	}
	tempDirs = append(tempDirs, dir)
	for _, host := range hosts {
		dss, err := host.ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			return err
		}
		if _, err := dss.CreateLocalDatastore(ctx, name, dir); err != nil {
			return err
		}
	}
	return nil
}

func setHardware(ref types.ManagedObjectReference, spec hostSpec) {
	host := simulator.Map.Get(ref).(*simulator.HostSystem)
	simulator.Map.WithLock(host, func() {
		info := &host.Hardware.SystemInfo
		info.Vendor = spec.Vendor
		info.Model = spec.Model
		info.SerialNumber = spec.ServiceTag
		info.OtherIdentifyingInfo = []types.HostSystemIdentificationInfo{
			{
				IdentifierValue: spec.ServiceTag,
				IdentifierType: &types.ElementDescription{
					Description: types.Description{Label: "Service tag", Summary: "Service tag of the system"},
					Key:         "ServiceTag",
				},
			},
		}
		hw := host.Summary.Hardware
		hw.Vendor = spec.Vendor
		hw.Model = spec.Model
		if spec.CPUCores > 0 {
			hw.NumCpuCores = spec.CPUCores
			hw.NumCpuThreads = spec.CPUCores * 2
			host.Hardware.CpuInfo.NumCpuCores = spec.CPUCores
		}
		if spec.CPUMhz > 0 {
			hw.CpuMhz = spec.CPUMhz
		}
		if spec.MemoryMB > 0 {
			hw.MemorySize = spec.MemoryMB * 1024 * 1024
			host.Hardware.MemorySize = hw.MemorySize
		}
	})
}

func buildVMs(ctx context.Context, folders *object.DatacenterFolders, host *object.HostSystem, datastore string, spec hostSpec) error {
	if len(spec.VMs) == 0 {
		return nil
	}
	pool, err := host.ResourcePool(ctx)
	if err != nil {
		return err
	}
	for _, vmSpec := range spec.VMs {
		config := types.VirtualMachineConfigSpec{
			Name:     vmSpec.Name,
			GuestId:  string(types.VirtualMachineGuestOsIdentifierOtherGuest),
			NumCPUs:  vmSpec.CPUs,
			MemoryMB: vmSpec.MemoryMB,
			Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + datastore + "]"},
		}
		task, err := folders.VmFolder.CreateVM(ctx, config, pool, host)
		if err != nil {
			return err
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return fmt.Errorf("vm %s: %v", vmSpec.Name, err)
		}
		if vmSpec.PoweredOn {
			vm := object.NewVirtualMachine(host.Client(), info.Result.(types.ManagedObjectReference))
			ptask, err := vm.PowerOn(ctx)
			if err != nil {
				return err
			}
			if err := ptask.Wait(ctx); err != nil {
				return fmt.Errorf("vm %s power on: %v", vmSpec.Name, err)
			}
		}
	}
	return nil
}

// setClusterConfig stores DRS and HA settings in process: vcsim 0.24 accepts but
// does not keep them when they arrive through ReconfigureComputeResource_Task.
func setClusterConfig(ref types.ManagedObjectReference, spec clusterSpec, hosts []types.ManagedObjectReference) {
	cluster := simulator.Map.Get(ref).(*simulator.ClusterComputeResource)
	simulator.Map.WithLock(cluster, func() {
		cfg := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
		automation := spec.DRS.Automation
		if automation == "" {
			automation = string(types.DrsBehaviorFullyAutomated)
		}
		cfg.DrsConfig = types.ClusterDrsConfigInfo{
			Enabled:           types.NewBool(spec.DRS.Enabled),
			DefaultVmBehavior: types.DrsBehavior(automation),
		}
		das := types.ClusterDasConfigInfo{
			Enabled:                 types.NewBool(spec.HA.Enabled),
			AdmissionControlEnabled: types.NewBool(spec.HA.Enabled && spec.HA.AdmissionControl != "" && spec.HA.AdmissionControl != "none"),
		}
		switch spec.HA.AdmissionControl {
		case "failover_hosts":
			n := spec.HA.FailoverHosts
			if n > len(hosts) {
				n = len(hosts)
			}
			das.AdmissionControlPolicy = &types.ClusterFailoverHostAdmissionControlPolicy{
				FailoverHosts: hosts[len(hosts)-n:],
				FailoverLevel: int32(n),
			}
		case "failover_level":
			das.AdmissionControlPolicy = &types.ClusterFailoverLevelAdmissionControlPolicy{FailoverLevel: spec.HA.FailoverLevel}
		case "percentage":
			das.AdmissionControlPolicy = &types.ClusterFailoverResourcesAdmissionControlPolicy{
				CpuFailoverResourcesPercent:    spec.HA.CPUFailoverPercent,
				MemoryFailoverResourcesPercent: spec.HA.MemFailoverPercent,
			}
		}
		cfg.DasConfig = das
	})
}

func removeTempDirs() {
	for _, dir := range tempDirs {
		os.RemoveAll(dir)
	}
}
